package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

func fixturesCommand() *cli.Command {
	return &cli.Command{
		Name:  "fixtures",
		Usage: "make synthetic source archives for tests and benchmarks",
		Subcommands: []*cli.Command{{
			Name:  "generate",
			Usage: "write a deterministic synthetic archive in the source layout",
			Description: "Writes users.jsonl and broadcasts/ for --users users with --broadcasts broadcasts\n" +
				"each. Every replay.mp4 is a real, playable MP4 padded to exactly --video-bytes. The\n" +
				"same flags always give the same bytes.\n\n" +
				"Example:\n  periscope-sunset fixtures generate --out /tmp/archive --users 50 --broadcasts 4 --video-bytes 5MiB",
			Flags: append([]cli.Flag{
				&cli.StringFlag{Name: "out", EnvVars: env("out"), Required: true,
					Usage: "where to write: folder, file:///path or s3://bucket/prefix"},
				&cli.IntFlag{Name: "users", EnvVars: env("users"), Value: 10, Usage: "number of users"},
				&cli.IntFlag{Name: "broadcasts", EnvVars: env("broadcasts"), Value: 3, Usage: "broadcasts per user"},
				&cli.StringFlag{Name: "video-bytes", EnvVars: env("video-bytes"), Value: "1MiB",
					Usage: "size of each replay.mp4, e.g. 64KiB, 5MiB"},
				&cli.Int64Flag{Name: "seed", EnvVars: env("seed"), Value: 1, Usage: "random seed"},
				&cli.IntFlag{Name: "hls-every", EnvVars: env("hls-every"),
					Usage: "make every Nth broadcast an HLS replay instead of MP4 (0: none)"},
				&cli.IntFlag{Name: "broken-every", EnvVars: env("broken-every"),
					Usage: "break every Nth broadcast (no or unreadable broadcast.json), as the export must survive (0: none)"},
			}, s3Flags()...),
			Action: runFixturesGenerate,
		}},
	}
}

func runFixturesGenerate(c *cli.Context) error {
	size, err := units.ParseSize(c.String("video-bytes"))
	if err != nil {
		return usagef(c, "--video-bytes: %v", err)
	}
	opts := fixtures.Options{
		Users: c.Int("users"), Broadcasts: c.Int("broadcasts"), VideoBytes: size,
		Seed: c.Int64("seed"), HLSEvery: c.Int("hls-every"), BrokenEvery: c.Int("broken-every"),
	}
	if opts.Users < 0 || opts.Broadcasts < 0 || opts.HLSEvery < 0 || opts.BrokenEvery < 0 {
		return usagef(c, "--users, --broadcasts, --hls-every and --broken-every must not be negative")
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	out, err := openStore(c.Context, c, "out", cfg)
	if err != nil {
		return err
	}
	st, err := fixtures.Generate(c.Context, out, opts)
	if err != nil {
		return fmt.Errorf("generate into %s: %w", out, err)
	}
	fmt.Fprintf(c.App.Writer, "wrote %d users, %d broadcasts, %d files, %s to %s\n",
		st.Users, st.Broadcasts, st.Files, units.Bytes(st.Bytes), out)
	return nil
}
