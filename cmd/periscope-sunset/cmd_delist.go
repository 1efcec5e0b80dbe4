package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/sunset"
)

func delistCommand() *cli.Command {
	return &cli.Command{
		Name:        "delist",
		Usage:       "schedule the app's removal from the App Store and Google Play",
		Subcommands: []*cli.Command{delistScheduleCommand()},
	}
}

func delistScheduleCommand() *cli.Command {
	return &cli.Command{
		Name:  "schedule",
		Usage: "set the delisting date and the runbook's milestones around it",
		Description: "Writes the runbook's schedule to the state store. --at defaults to the next March 31,\n" +
			"00:00 in --tz (next year's once that day has begun). The milestones, relative to the\n" +
			"delisting date D:\n\n" + indent(sunset.DefaultOffsets(), "  ") + "\n\n" +
			"Nothing runs now: `periscope-sunset runbook tick` (from cron, every minute) runs each\n" +
			"step when it falls due. The Apple step needs App Store Connect credentials at tick time\n" +
			"(see runbook tick --help); the Google step is manual. Rescheduling writes a new version\n" +
			"of the schedule; steps already done stay done.\n\n" +
			"Examples:\n" +
			"  periscope-sunset delist schedule --stores apple,google --tz America/Los_Angeles\n" +
			"  periscope-sunset delist schedule --at 2027-03-31T00:00:00-07:00 --stores apple,google \\\n" +
			"      --info-url https://example.com/shutdown --state s3://ops/sunset --dry-run",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "at", EnvVars: env("at"),
				Usage: "delisting time: RFC 3339 or a date, midnight in --tz (default: the next March 31)"},
			tzFlag(),
			&cli.StringFlag{Name: "stores", EnvVars: env("stores"), Required: true, Usage: "stores to delist from: apple, google or apple,google"},
			&cli.StringFlag{Name: "info-url", EnvVars: env("info-url"), Usage: "shutdown notice page, put on the sign-up flag when sign-ups close"},
		}, stateFlags(true)...),
		Action: runDelistSchedule,
	}
}

func runDelistSchedule(c *cli.Context) error {
	loc, err := location(c)
	if err != nil {
		return err
	}
	at, err := timeFlag(c, "at")
	if err != nil {
		return err
	}
	var stores []string
	for _, st := range strings.Split(c.String("stores"), ",") {
		if st = strings.ToLower(strings.TrimSpace(st)); st != "" {
			stores = append(stores, st)
		}
	}
	s, err := openState(c)
	if err != nil {
		return err
	}
	ch, err := s.Schedule(c.Context, sunset.ScheduleRequest{At: at, Location: loc, Stores: stores, InfoURL: c.String("info-url")})
	if err != nil {
		return err
	}
	w := c.App.Writer
	verb := "scheduled"
	if ch.DryRun {
		verb = "would schedule"
	}
	fmt.Fprintf(w, "%s: delisting from %s at %s (schedule version %d)\n", verb, strings.Join(ch.After.Stores, " and "),
		ch.After.DelistAt.Format(time.RFC3339), ch.After.Version)
	if ch.Before != nil {
		fmt.Fprintf(w, "replaces version %d (delisting at %s, by %s)\n", ch.Before.Version,
			ch.Before.DelistAt.Format(time.RFC3339), ch.Before.UpdatedBy)
	}
	if ch.After.DelistAt.Before(time.Now()) {
		fmt.Fprintln(w, "note: that time has passed; the steps due already run on the next tick")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tDUE\tKIND")
	for _, m := range ch.After.Milestones {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Step, showTime(m.Due, loc), m.Kind)
	}
	tw.Flush()
	dryRunNote(c)
	return nil
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
