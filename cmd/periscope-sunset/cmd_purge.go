package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/purge"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

func purgeCommand() *cli.Command {
	return &cli.Command{
		Name:  "purge",
		Usage: "delete users' exports when the export window closes (or one user's on request)",
		Description: "Deletes every user's export objects from --dest: manifest.json first (so a user is\n" +
			"never seen as complete with parts missing), then the zip parts, then claims and notify\n" +
			"records, and aborts their unfinished uploads on S3. Run reports under _runs/ stay, and this\n" +
			"run adds _runs/purge/<run_id>.json listing every user purged with objects and bytes; the\n" +
			"runbook's audit log (--state) records who purged what and when. Interrupted? Run it again.\n\n" +
			"Refuses without --yes; --dry-run lists what it would delete. Before the runbook's\n" +
			"export-window-close date it also wants --before-window-close, unless --user is given.\n\n" +
			"Examples:\n" +
			"  periscope-sunset purge --dest s3://exports/2021 --dry-run\n" +
			"  periscope-sunset purge --dest s3://exports/2021 --yes --state s3://ops/sunset\n" +
			"  periscope-sunset purge --dest s3://exports/2021 --yes --user alice   # a deletion request",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"), Required: true,
				Usage: "where the exports are: folder, file:///path or s3://bucket/prefix"},
			&cli.BoolFlag{Name: "yes", EnvVars: env("yes"), Usage: "really delete"},
			&cli.StringSliceFlag{Name: "user", EnvVars: env("user"),
				Usage: "only this user id (repeat for more); default every user in --dest"},
			&cli.BoolFlag{Name: "before-window-close", EnvVars: env("before-window-close"),
				Usage: "purge every user although the runbook's export window is still open"},
		}, stateFlags(true)...),
		Action: runPurge,
	}
}

func runPurge(c *cli.Context) error {
	opts := purge.Options{Users: c.StringSlice("user"), DryRun: c.Bool("dry-run")}
	for _, u := range opts.Users {
		if !export.ValidID(u) || u+"/" == export.RunsPrefix {
			return usagef(c, "--user %q: not a valid user id", u)
		}
	}
	if !opts.DryRun && !c.Bool("yes") {
		return usagef(c, "purge deletes users' exports for good: give --yes to do it, or --dry-run to see what it would delete")
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	dst, err := openDest(c.Context, c, cfg, opts.DryRun)
	if err != nil {
		return err
	}
	state, err := openState(c)
	if err != nil {
		return err
	}
	if err := checkWindowClosed(c, state, len(opts.Users) > 0); err != nil {
		return err
	}
	rep, err := purge.Run(c.Context, dst, opts)
	if rep != nil {
		printPurgeReport(c, rep, opts.DryRun || len(opts.Users) > 0)
		err = errors.Join(err, auditPurge(c, state, dst, rep, err))
	}
	dryRunNote(c)
	return err
}

// checkWindowClosed refuses a purge of everyone while the runbook says
// the export window is still open: users may be downloading.
func checkWindowClosed(c *cli.Context, state *sunset.State, someUsers bool) error {
	if someUsers || c.Bool("before-window-close") || c.Bool("dry-run") {
		return nil
	}
	p, err := state.LoadSchedule(c.Context)
	if errors.Is(err, sunset.ErrNoSchedule) {
		return nil
	}
	if err != nil {
		return err
	}
	if m, ok := p.Milestone(sunset.StepExportWindowClose); ok && time.Now().Before(m.Due) {
		return usagef(c, "the runbook's export window closes at %s: users may still be downloading; "+
			"give --before-window-close to purge everyone now, or --user ID for single users",
			m.Due.Format(time.RFC3339))
	}
	return nil
}

func printPurgeReport(c *cli.Context, rep *purge.Report, perUser bool) {
	verb := "deleted"
	if rep.DryRun {
		verb = "would delete"
	}
	if perUser {
		for _, u := range rep.Users {
			fmt.Fprintf(c.App.Writer, "%s %s: %d objects, %s\n", verb, u.User, u.Objects, units.Bytes(u.Bytes))
		}
	}
	for _, u := range rep.Users {
		if u.Error != "" {
			fmt.Fprintf(c.App.ErrWriter, "  failed: %s: %s\n", u.User, u.Error)
		}
	}
	if len(rep.Left) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "left alone (not in a user folder): %q\n", rep.Left) // quoted: keys may hold anything
	}
	where := "report " + rep.Key()
	if rep.DryRun {
		where = "no report (dry run)"
	}
	fmt.Fprintf(c.App.Writer, "%s %d objects, %s, of %d users (%d failed: rerun to finish); %s\n",
		verb, rep.Objects, units.Bytes(rep.Bytes), len(rep.Users), rep.Failed, where)
}

// auditPurge records who purged what and when in the runbook's audit log.
func auditPurge(c *cli.Context, state *sunset.State, dst blob.Store, rep *purge.Report, runErr error) error {
	result := "ok"
	if runErr != nil {
		result = "partial"
	}
	what := "every user"
	if len(rep.Only) > 0 {
		what = "users " + strings.Join(rep.Only, ",")
	}
	after, _ := json.Marshal(map[string]any{"run_id": rep.RunID, "users": len(rep.Users), "objects": rep.Objects,
		"bytes": rep.Bytes, "failed": rep.Failed, "only_users": rep.Only, "report": rep.Key()})
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), 30*time.Second)
	defer cancel()
	return state.Record(ctx, sunset.Event{Action: "export.purge", Subject: dst.String(), Result: result,
		Detail: fmt.Sprintf("purged %s: %d objects, %d bytes; report %s", what, rep.Objects, rep.Bytes, rep.Key()),
		After:  after})
}
