package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export/dashboard"
	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/metrics"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

func dashboardCommand() *cli.Command {
	return &cli.Command{
		Name:  "dashboard",
		Usage: "serve one page with the shutdown at a glance: runbook, sign-ups, export, failures, emails, downloads",
		Description: "Reads --state, --dest (and --source, to count pending users) in the background at most\n" +
			"every --interval and serves the last read: page views never list the destination. GET /\n" +
			"is the page, /metrics the fleet-wide numbers for Prometheus, /healthz answers ok.\n" +
			"It listens on loopback only unless --auth-file gives a bearer token or user:password.\n\n" +
			"Example:\n" +
			"  periscope-sunset dashboard --state s3://ops/sunset-state --dest s3://exports/2021 \\\n" +
			"      --source s3://live/archive --listen 127.0.0.1:8090",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "state", EnvVars: env("state"), Value: defaultState,
				Usage: "where the runbook's state and audit log live: folder, file:///path or s3://bucket/prefix"},
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"), Required: true,
				Usage: "where the exports are: folder, file:///path or s3://bucket/prefix"},
			&cli.StringFlag{Name: "source", EnvVars: env("source"),
				Usage: "the source archive, to count the users still pending (reads users.jsonl on each refresh)"},
			&cli.StringFlag{Name: "listen", EnvVars: env("listen"), Value: "127.0.0.1:8090",
				Usage: "address to listen on; beyond loopback, --auth-file is required"},
			&cli.StringFlag{Name: "auth-file", EnvVars: env("auth-file"),
				Usage: "file with one line: a bearer token (16+ characters) or user:password (12+ character password)"},
			&cli.DurationFlag{Name: "interval", EnvVars: env("interval"), Value: dashboard.DefaultInterval,
				Usage: "least time between two reads of the stores"},
		}, s3Flags()...),
		Action: runDashboard,
	}
}

func runDashboard(c *cli.Context) error {
	ctx := c.Context
	auth, err := dashboardAuth(c)
	if err != nil {
		return err
	}
	if err := dashboard.CheckListen(c.String("listen"), auth); err != nil {
		return usagef(c, "--listen %s: %v", c.String("listen"), err)
	}
	if c.Duration("interval") < 5e9 {
		return usagef(c, "--interval %v: want at least 5s", c.Duration("interval"))
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	opts := dashboard.Options{Interval: c.Duration("interval"),
		Log: slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))}
	// The dashboard only reads: a write would be a bug, so none can land.
	for flag, dst := range map[string]*blob.Store{"dest": &opts.Dest, "source": &opts.Source} {
		if c.String(flag) == "" {
			continue
		}
		st, err := openStore(ctx, c, flag, cfg)
		if err != nil {
			return err
		}
		*dst = blob.DryRun{Store: st}
	}
	stateStore, err := openStore(ctx, c, "state", cfg)
	if err != nil {
		return err
	}
	opts.State = sunset.Open(blob.DryRun{Store: stateStore}, sunset.Options{Actor: "dashboard", DryRun: true})
	col := dashboard.NewCollector(opts)
	reg := metrics.New(nil)
	if err := reg.Register(metrics.Fleet(func() *dashboard.Snapshot { s, _ := col.Snapshot(); return s })); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "dashboard on http://%s (state %s, exports %s)\n", ln.Addr(), stateStore, opts.Dest)
	go col.Run(ctx)
	return portal.Serve(ctx, ln, dashboard.Handler(col, reg.Handler(), auth), 0, opts.Log)
}

func dashboardAuth(c *cli.Context) (*dashboard.Auth, error) {
	name := c.String("auth-file")
	if name == "" {
		return nil, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usagef(c, "--auth-file: %v", err)
	}
	a, err := dashboard.ParseAuth(b)
	if err != nil {
		return nil, usagef(c, "--auth-file %s: %v", name, err)
	}
	return a, nil
}
