package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "export every user's archive as a verifiable, resumable BagIt zip per user",
		Description: "Reads users.jsonl and broadcasts/ from --source and writes, for every user,\n" +
			"<dest>/<user>/periscope-<user>.zip (or numbered parts) and then manifest.json, which\n" +
			"marks the export complete. Rerunning skips users whose export is complete and whose\n" +
			"source is unchanged, so an interrupted run is resumed by running it again.\n\n" +
			"Examples:\n" +
			"  periscope-sunset export --source fixtures/sample --dest ./exports\n" +
			"  periscope-sunset export --source s3://live/archive --dest s3://exports/2021 \\\n" +
			"      --workers 64 --shard-count 100   # shard index from AWS_BATCH_JOB_ARRAY_INDEX",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "source", EnvVars: env("source"), Required: true,
				Usage: "source archive: folder, file:///path or s3://bucket/prefix"},
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"), Required: true,
				Usage: "where exports go: folder, file:///path or s3://bucket/prefix"},
			&cli.IntFlag{Name: "workers", EnvVars: env("workers"), Value: export.DefaultWorkers(),
				Usage: "users exported at once"},
			&cli.IntFlag{Name: "shard-index", Usage: "this process's shard, 0-based",
				EnvVars: append(env("shard-index"), "AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX")},
			&cli.IntFlag{Name: "shard-count", EnvVars: env("shard-count"), Value: 1,
				Usage: "number of shards the users are split into (array size)"},
			&cli.StringFlag{Name: "users", EnvVars: env("users"),
				Usage: "export only the user ids listed in this file, one per line"},
			&cli.StringFlag{Name: "max-part-size", EnvVars: env("max-part-size"), Value: "0",
				Usage: "split each export into numbered zip parts of about this size, e.g. 4GiB (0: one part)"},
			&cli.BoolFlag{Name: "strict", EnvVars: env("strict"),
				Usage: "fail a user on any omission (a broadcast or file that cannot be exported safely) instead of exporting the rest"},
			&cli.BoolFlag{Name: "dry-run", EnvVars: env("dry-run"),
				Usage: "read and package everything, write nothing"},
			drainFlag(export.DefaultDrainTimeout, "how long users in flight may take to finish before they are aborted"),
			&cli.StringFlag{Name: "progress", EnvVars: env("progress"), Value: "auto",
				Usage: "auto (a bar on a terminal, log lines otherwise), bar, log or none"},
			&cli.StringFlag{Name: "storage-class", EnvVars: env("storage-class"), Category: "S3",
				Usage: "S3 storage class of the export parts and manifests, e.g. STANDARD_IA or INTELLIGENT_TIERING"},
			&cli.StringSliceFlag{Name: "tag", EnvVars: env("tag"), Category: "S3",
				Usage: "object tag KEY=VALUE on every export part and manifest, for lifecycle rules (repeatable, at most 10)"},
			&cli.StringFlag{Name: "source-expected-bucket-owner", EnvVars: env("source-expected-bucket-owner"), Category: "S3",
				Usage: "account id that must own the --source bucket (checked first, then sent on every request)"},
		}, append(append(remuxFlags(), s3Flags()...), append(profileFlags(), metricsFlag())...)...),
		Action: runExport,
	}
}

func runExport(c *cli.Context) error {
	ctx := c.Context
	opts, err := exportOptions(c)
	if err != nil {
		return err
	}
	if err := refuseOverlap(c, "source", "dest"); err != nil {
		return err
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	if cfg.StorageClass, cfg.Tags, err = archivalOptions(c); err != nil {
		return err
	}
	// Keep the heap close to what the work needs: upload buffers plus a
	// margin, unless GOMEMLIMIT says otherwise.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.Budget.Limit() + 64<<20)
	}
	stopProfiles, err := startProfiles(c)
	if err != nil {
		return err
	}
	defer stopProfiles()
	reg, err := startMetrics(c, &cfg)
	if err != nil {
		return err
	}
	src, err := openStore(ctx, c, "source", cfg)
	if err != nil {
		return err
	}
	dst, err := openDest(ctx, c, cfg, c.Bool("dry-run"))
	if err != nil {
		return err
	}
	opts.SourceName, opts.DestName = src.String(), dst.String()
	prog, log, err := newProgress(c.String("progress"), "users")
	if err != nil {
		return usagef(c, "--progress: %v", err)
	}
	opts.Progress, opts.Log = prog, log
	if reg != nil {
		opts.Progress = reg.Export(prog)
	}
	rep, err := export.Run(ctx, src, dst, opts)
	prog.Close()
	if rep != nil {
		fmt.Fprintf(c.App.Writer, "exported %d, skipped %d (already done), failed %d users; %s written; report %s\n",
			rep.Users.Exported, rep.Users.Skipped, rep.Users.Failed, units.Bytes(rep.Bytes), rep.Key())
		if n := rep.Users.WithOmissions; n > 0 {
			fmt.Fprintf(c.App.Writer, "%d exported users have omissions (broadcasts or files that could not be exported safely; see the report)\n", n)
		}
		if n := rep.Users.Duplicates; n > 0 {
			fmt.Fprintf(c.App.Writer, "%d duplicate lines in users.jsonl (each user exported once)\n", n)
		}
		for _, f := range rep.Failures {
			fmt.Fprintf(c.App.ErrWriter, "  failed: %s\n", f.Reason)
		}
	}
	return err
}

// exportOptions fills export.Options from the flags, in one place.
func exportOptions(c *cli.Context) (export.Options, error) {
	opts := export.Options{
		Workers:      c.Int("workers"),
		ShardIndex:   c.Int("shard-index"),
		ShardCount:   c.Int("shard-count"),
		ToolVersion:  toolVersion(),
		DrainTimeout: c.Duration("drain-timeout"),
		Strict:       c.Bool("strict"),
	}
	if opts.Workers < 1 {
		return opts, usagef(c, "--workers %d: want 1 or more", opts.Workers)
	}
	if opts.ShardCount < 1 || opts.ShardIndex < 0 || opts.ShardIndex >= opts.ShardCount {
		return opts, usagef(c, "--shard-index %d --shard-count %d: want 0 <= index < count",
			opts.ShardIndex, opts.ShardCount)
	}
	size, err := units.ParseSize(c.String("max-part-size"))
	if err != nil {
		return opts, usagef(c, "--max-part-size: %v", err)
	}
	if size != 0 && size < 1<<20 {
		return opts, usagef(c, "--max-part-size %s: want 0 (one part) or at least 1MiB", c.String("max-part-size"))
	}
	opts.MaxPartSize = size
	if opts.Remux, opts.FFmpeg, err = remuxOptions(c); err != nil {
		return opts, err
	}
	if f := c.String("users"); f != "" {
		if opts.Only, err = readUserList(f); err != nil {
			return opts, usagef(c, "--users: %v", err)
		}
	}
	return opts, nil
}

// archivalOptions reads --storage-class and --tag, which apply to the
// parts and manifests users download (blob.PutOptions.Archival).
func archivalOptions(c *cli.Context) (string, []blob.Tag, error) {
	class := c.String("storage-class")
	if err := blob.CheckStorageClass(class); err != nil {
		return "", nil, usagef(c, "--storage-class: %v", err)
	}
	tags, err := blob.ParseTags(c.StringSlice("tag"))
	if err != nil {
		return "", nil, usagef(c, "--tag: %v", err)
	}
	return class, tags, nil
}

// readUserList reads one user id per line; blank lines and # comments are
// ignored, and an invalid id is an error naming its line.
func readUserList(name string) (map[string]bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		id := strings.TrimSpace(sc.Text())
		if id == "" || strings.HasPrefix(id, "#") {
			continue
		}
		if !export.ValidID(id) {
			return nil, fmt.Errorf("%s line %d: invalid user id %q", name, n, id)
		}
		ids[id] = true
	}
	return ids, sc.Err()
}

// remuxFlags are --remux and --ffmpeg, which plan takes too, to count
// what remuxing reads.
func remuxFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "remux", EnvVars: env("remux"), Value: "auto",
			Usage: "HLS replays to MP4 with ffmpeg (-c copy) so they play offline: auto (when ffmpeg is on PATH), never, require"},
		&cli.StringFlag{Name: "ffmpeg", EnvVars: env("ffmpeg"), Value: "ffmpeg",
			Usage: "the ffmpeg binary used for --remux"},
	}
}

// remuxOptions resolves --remux and --ffmpeg: auto without ffmpeg quietly
// keeps HLS replays; require without ffmpeg is a usage error.
func remuxOptions(c *cli.Context) (export.RemuxMode, string, error) {
	mode := export.RemuxMode(c.String("remux"))
	switch mode {
	case export.RemuxNever:
		return mode, "", nil
	case export.RemuxAuto, export.RemuxRequire:
	default:
		return "", "", usagef(c, "--remux %q: want auto, never or require", mode)
	}
	bin, err := exec.LookPath(c.String("ffmpeg"))
	if err != nil && mode == export.RemuxRequire {
		return "", "", usagef(c, "--remux require: ffmpeg not found (%v); install it or give --ffmpeg PATH", err)
	}
	return mode, bin, nil
}
