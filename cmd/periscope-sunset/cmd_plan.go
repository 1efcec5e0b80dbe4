package main

import (
	"encoding/json"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export/fleet"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

func planCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "size the export fleet: shards, instance type, hours and S3 requests, before paying for it",
		Description: "Reads the source's catalog (users.jsonl and one listing of broadcasts/, no media),\n" +
			"counts users, broadcasts, objects and bytes with a histogram of per-user sizes, and\n" +
			"recommends the shard count (the AWS Batch array size or Kubernetes completions), the\n" +
			"Graviton instance size, workers and memory per shard, the estimated hours, and the S3\n" +
			"requests of the run, explaining each figure.\n\n" +
			"Examples:\n" +
			"  periscope-sunset plan --source fixtures/sample\n" +
			"  periscope-sunset plan --source s3://live/archive --deadline 48h --throughput-per-vcpu 40",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "source", EnvVars: env("source"), Required: true,
				Usage: "source archive: folder, file:///path or s3://bucket/prefix"},
			&cli.Float64Flag{Name: "throughput-per-vcpu", EnvVars: env("throughput-per-vcpu"),
				Value: fleet.DefaultThroughputPerVCPU / 1e6,
				Usage: "MB/s (10^6 bytes) one vCPU exports, source to destination; the default is from the project's benchmark, made conservative"},
			&cli.DurationFlag{Name: "deadline", EnvVars: env("deadline"), Value: fleet.DefaultDeadline,
				Usage: "when the whole export must be done, e.g. 24h, 72h"},
			&cli.IntFlag{Name: "workers-per-vcpu", EnvVars: env("workers-per-vcpu"), Value: 4,
				Usage: "the export's --workers per vCPU"},
			&cli.StringFlag{Name: "max-part-size", EnvVars: env("max-part-size"), Value: "0",
				Usage: "the export's --max-part-size, for the request count (0: one zip per user)"},
			&cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print the plan as JSON"},
		}, s3Flags()...),
		Action: runPlan,
	}
}

func runPlan(c *cli.Context) error {
	opts, err := planOptions(c)
	if err != nil {
		return err
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	src, err := openStore(c.Context, c, "source", cfg)
	if err != nil {
		return err
	}
	plan, err := fleet.Plan(c.Context, src, opts)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(plan)
	}
	return plan.WriteText(c.App.Writer)
}

// planOptions fills fleet.Options from the flags, in one place.
func planOptions(c *cli.Context) (fleet.Options, error) {
	opts := fleet.Options{
		ThroughputPerVCPU: c.Float64("throughput-per-vcpu") * 1e6,
		Deadline:          c.Duration("deadline"),
		WorkersPerVCPU:    c.Int("workers-per-vcpu"),
	}
	if opts.ThroughputPerVCPU <= 0 {
		return opts, usagef(c, "--throughput-per-vcpu %s: want MB/s above 0, e.g. 50",
			strconv.FormatFloat(c.Float64("throughput-per-vcpu"), 'g', -1, 64))
	}
	if opts.Deadline <= 0 {
		return opts, usagef(c, "--deadline %s: want a duration above 0, e.g. 24h", c.Duration("deadline"))
	}
	if opts.WorkersPerVCPU < 1 {
		return opts, usagef(c, "--workers-per-vcpu %d: want 1 or more", opts.WorkersPerVCPU)
	}
	size, err := units.ParseSize(c.String("max-part-size"))
	if err != nil {
		return opts, usagef(c, "--max-part-size: %v", err)
	}
	opts.MaxPartSize = size
	return opts, nil
}
