package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "re-read exports (or a user's download) and check every byte against their manifests",
		ArgsUsage: "[FOLDER]",
		Description: "With --dest: for each user (all users with a manifest.json, or those given with\n" +
			"--user), re-reads every part and checks its size and SHA-256 against manifest.json,\n" +
			"then every file in it against manifest.json and the bag's manifest-sha256.txt,\n" +
			"tagmanifest-sha256.txt and Payload-Oxum.\n\n" +
			"With a FOLDER of downloaded parts (periscope-<user>*.zip) or of an extracted export\n" +
			"(bagit.txt at the top): checks it against the bag's own manifests and that no part\n" +
			"is missing, so a broken download can be told from a good one.\n\n" +
			"Prints one line per problem and exits 3 if anything is not intact.\n\n" +
			"Examples:\n  periscope-sunset verify --dest s3://exports/periscope --user alice\n" +
			"  periscope-sunset verify ~/Downloads            # the parts you downloaded\n" +
			"  periscope-sunset verify ~/periscope-alice      # the folder you extracted them into",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"),
				Usage: "where the exports are: folder, file:///path or s3://bucket/prefix"},
			&cli.StringSliceFlag{Name: "user", EnvVars: env("user"),
				Usage: "check only this user id (repeat for more)"},
			&cli.IntFlag{Name: "workers", EnvVars: env("workers"), Value: 4, Usage: "users checked at once"},
			&cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print one JSON object per user"},
			drainFlag(defaultDrain, "reads stop at once; a check with no way to stop (verify FOLDER) is given up after this"),
		}, s3Flags()...),
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	if dir := c.Args().First(); dir != "" || export.LooksLikeDownload(c.String("dest")) {
		if dir == "" {
			dir = c.String("dest")
		}
		return verifyDownload(c, dir)
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	dst, err := openStore(c.Context, c, "dest", cfg)
	if err != nil {
		return err
	}
	for _, u := range c.StringSlice("user") {
		if !export.ValidID(u) {
			return usagef(c, "--user %q: not a valid user id", u)
		}
	}
	opts := export.VerifyOptions{
		Users:    c.StringSlice("user"),
		Workers:  c.Int("workers"),
		Progress: checkPrinter(c),
	}
	results, err := export.Verify(c.Context, dst, opts)
	if err == nil && !c.Bool("json") {
		fmt.Fprintf(c.App.Writer, "all %d exports verified\n", len(results))
	}
	if err == nil && len(results) == 0 && len(opts.Users) == 0 {
		return fmt.Errorf("no exports found in %s", dst)
	}
	return err
}

// checkPrinter prints one verdict per user: a line, or JSON with --json.
func checkPrinter(c *cli.Context) func(export.UserCheck) {
	enc := json.NewEncoder(c.App.Writer)
	return func(r export.UserCheck) {
		if c.Bool("json") {
			enc.Encode(r)
			return
		}
		if r.OK() {
			fmt.Fprintf(c.App.Writer, "ok    %s: %d part(s), %d files, %s\n", r.User, r.Parts, r.Files, units.Bytes(r.Bytes))
		}
		for _, p := range r.Problems {
			fmt.Fprintf(c.App.Writer, "FAIL  %s: %s\n", r.User, p)
		}
	}
}

// verifyDownload checks a folder on the user's side: downloaded parts or
// an extracted export.
func verifyDownload(c *cli.Context, dir string) error {
	results, err := untilStopped(c.Context, c.Duration("drain-timeout"), func() ([]export.UserCheck, error) {
		return export.VerifyDownload(dir)
	})
	for _, r := range results {
		checkPrinter(c)(r)
	}
	if err == nil && !c.Bool("json") {
		fmt.Fprintf(c.App.Writer, "intact: %s holds complete, unaltered export(s)\n", dir)
	}
	return err
}
