package main

import (
	"cmp"
	"os"
	"strings"
	"time"
	_ "time/tzdata" // --tz works on machines and images without a zoneinfo database

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

const defaultState = "./sunset-state"

// stateFlags are taken by every command that reads or changes the
// runbook's state; mutating ones also take --dry-run.
func stateFlags(mutating bool) []cli.Flag {
	fs := []cli.Flag{
		&cli.StringFlag{Name: "state", EnvVars: env("state"), Value: defaultState,
			Usage: "where the runbook's state and audit log live: folder, file:///path or s3://bucket/prefix"},
		&cli.StringFlag{Name: "actor", EnvVars: env("actor"),
			Usage: "who acts, for the audit log (default: the AWS caller identity when --state is on S3, else $USER, else \"unknown\")"},
	}
	if mutating {
		fs = append(fs, &cli.BoolFlag{Name: "dry-run", EnvVars: env("dry-run"),
			Usage: "print what would change and change nothing"})
	}
	return append(fs, s3Flags()...)
}

// openState opens --state. With --dry-run the store is also wrapped so
// that nothing can be written, whatever the library does.
func openState(c *cli.Context) (*sunset.State, error) {
	cfg, err := s3Config(c)
	if err != nil {
		return nil, err
	}
	st, err := openStore(c.Context, c, "state", cfg)
	if err != nil {
		return nil, err
	}
	dry := c.Bool("dry-run")
	if dry {
		st = blob.DryRun{Store: st}
	}
	return sunset.Open(st, sunset.Options{Actor: actorName(c), DryRun: dry}), nil
}

// actorName is --actor, else the AWS caller identity (state on S3), else
// $USER, else "unknown".
func actorName(c *cli.Context) string {
	if a := strings.TrimSpace(c.String("actor")); a != "" {
		return a
	}
	if strings.HasPrefix(c.String("state"), "s3://") {
		if id := awsCallerIdentity(c.Context); id != "" {
			return id
		}
	}
	return cmp.Or(os.Getenv("USER"), "unknown")
}

func tzFlag() cli.Flag {
	return &cli.StringFlag{Name: "tz", EnvVars: env("tz"), Value: "UTC",
		Usage: "IANA time zone that dates without a time are midnight in, e.g. America/Los_Angeles"}
}

func location(c *cli.Context) (*time.Location, error) {
	loc, err := time.LoadLocation(c.String("tz"))
	if err != nil {
		return nil, usagef(c, "--tz %q: not a time zone (want an IANA name such as America/Los_Angeles or UTC)", c.String("tz"))
	}
	return loc, nil
}

// timeFlag reads a time flag: RFC 3339 or a date (midnight in --tz). Unset
// is the zero time.
func timeFlag(c *cli.Context, name string) (time.Time, error) {
	v := c.String(name)
	if v == "" {
		return time.Time{}, nil
	}
	loc, err := location(c)
	if err != nil {
		return time.Time{}, err
	}
	t, err := sunset.ParseTime(v, loc)
	if err != nil {
		return time.Time{}, usagef(c, "--%s: %v", name, err)
	}
	return t, nil
}

// showTime prints a time in loc, or "-" for none.
func showTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}

func dryRunNote(c *cli.Context) {
	if c.Bool("dry-run") {
		c.App.Writer.Write([]byte("dry run: nothing was changed\n"))
	}
}
