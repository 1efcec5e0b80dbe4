package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/sunset"
)

func runbookCommand() *cli.Command {
	return &cli.Command{
		Name:  "runbook",
		Usage: "run and watch the shutdown's dated milestones; read the audit trail",
		Description: "The runbook's milestones come from `delist schedule`. Each is pending (not due), due,\n" +
			"running, done, awaiting confirmation (a manual step the tick opened) or failed (retried\n" +
			"on the next tick).\n\n" +
			"Examples:\n" +
			"  periscope-sunset runbook status\n" +
			"  * * * * *  periscope-sunset runbook tick --state s3://ops/sunset   # crontab\n" +
			"  periscope-sunset runbook confirm delist-google --evidence \"unpublished, ticket OPS-42\"\n" +
			"  periscope-sunset runbook ics > shutdown.ics\n" +
			"  periscope-sunset runbook audit",
		Subcommands: []*cli.Command{
			runbookStatusCommand(), runbookTickCommand(), runbookConfirmCommand(),
			runbookICSCommand(), runbookAuditCommand(),
		},
	}
}

func runbookStatusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show every milestone: due time, state, actor, evidence",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print one JSON object {plan, steps}"},
		}, stateFlags(false)...),
		Action: func(c *cli.Context) error {
			s, err := openState(c)
			if err != nil {
				return err
			}
			p, steps, err := s.Status(c.Context)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return json.NewEncoder(c.App.Writer).Encode(map[string]any{"plan": p, "steps": steps})
			}
			loc := p.Location()
			fmt.Fprintf(c.App.Writer, "delisting from %s at %s (schedule version %d, by %s)\n",
				strings.Join(p.Stores, " and "), p.DelistAt.Format(time.RFC3339), p.Version, p.UpdatedBy)
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "STEP\tDUE\tSTATE\tACTOR\tEVIDENCE")
			for _, st := range steps {
				ev := st.Evidence
				if st.Error != "" {
					ev = strings.TrimSpace(ev + " error: " + st.Error)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", st.Step, showTime(st.Due, loc),
					st.State, orDash(st.Actor), orDash(oneLine(ev, 100)))
			}
			return tw.Flush()
		},
	}
}

func runbookTickCommand() *cli.Command {
	return &cli.Command{
		Name:  "tick",
		Usage: "run each due step once (safe to call every minute from cron, from many machines)",
		Description: "Runs every due step that no other tick is running. Each attempt at a step is claimed\n" +
			"with a conditional write, so two ticks at once never run a step twice; a claim left by a\n" +
			"tick that died expires after a 10-minute lease and the step runs again. Automatic steps:\n" +
			"signups-blocked (sets the flag), delist-apple (App Store Connect: unavailable in every\n" +
			"territory, read back to confirm), read-only (recorded; the gate enforces it by date).\n" +
			"Manual steps (announcement, delist-google, export window) print what to do and wait for\n" +
			"`runbook confirm`. A failed step stays failed and is retried on the next tick; the tick\n" +
			"then exits 1 so cron reports it.\n\n" +
			"Examples:\n" +
			"  periscope-sunset runbook tick --dry-run\n" +
			"  PERISCOPE_SUNSET_ASC_KEY_FILE=/secrets/AuthKey_2X9R4HXF34.p8 PERISCOPE_SUNSET_ASC_KEY_ID=2X9R4HXF34 \\\n" +
			"  PERISCOPE_SUNSET_ASC_ISSUER_ID=57246542-96fe-1a63-e053-0824d011072a PERISCOPE_SUNSET_ASC_APP_ID=1234567890 \\\n" +
			"      periscope-sunset runbook tick --state s3://ops/sunset",
		Flags:  append(append([]cli.Flag{}, stateFlags(true)...), ascFlags()...),
		Action: runRunbookTick,
	}
}

func runRunbookTick(c *cli.Context) error {
	apple, err := appleDelister(c)
	if err != nil {
		return err
	}
	s, err := openState(c)
	if err != nil {
		return err
	}
	rep, err := s.Tick(c.Context, sunset.TickOptions{Apple: apple})
	var failed *sunset.StepsFailedError
	if err != nil && !errors.As(err, &failed) {
		return err
	}
	printTick(c, rep, rep.Location())
	return err
}

func printTick(c *cli.Context, rep sunset.TickReport, loc *time.Location) {
	w := c.App.Writer
	if len(rep.Runs) == 0 {
		fmt.Fprintln(w, "nothing to do now: every step that is due is done")
	}
	if rep.Next != nil {
		fmt.Fprintf(w, "next: %s at %s\n", rep.Next.Step, showTime(rep.Next.Due, loc))
	}
	for _, r := range rep.Runs {
		label := r.Action
		if r.Outcome == sunset.StateFailed {
			label = "FAILED"
		}
		fmt.Fprintf(w, "%-9s %-20s %s\n", label, r.Step, tickDetail(r))
		if r.Instructions != "" && r.Action != sunset.ActionWaiting {
			fmt.Fprintln(w, indent(r.Instructions, "          "))
		}
		if r.Outcome == sunset.StateAwaiting || (r.Action == sunset.ActionWouldRun && r.Instructions != "") {
			fmt.Fprintf(w, "          when done: periscope-sunset runbook confirm %s --evidence TEXT --state %s\n",
				r.Step, c.String("state"))
		}
	}
	dryRunNote(c)
}

func tickDetail(r sunset.StepRun) string {
	parts := []string{r.Outcome}
	if r.Evidence != "" {
		parts = append(parts, r.Evidence)
	}
	if r.Error != "" {
		parts = append(parts, "error: "+r.Error)
	}
	return strings.Join(parts, ": ")
}

func runbookConfirmCommand() *cli.Command {
	return &cli.Command{
		Name:      "confirm",
		Usage:     "record that a manual step is done, with evidence",
		ArgsUsage: "STEP",
		Description: "Closes a step awaiting confirmation (delist-google, announcement, the export window).\n" +
			"It also records an automatic step done by hand, e.g. delist-apple done in App Store\n" +
			"Connect's web page while the API was failing.\n\n" +
			"Example:\n" +
			"  periscope-sunset runbook confirm delist-google --evidence \"unpublished in Play Console by ana, OPS-42\"",
		Flags: append([]cli.Flag{
			// Not Required: urfave/cli would check before trailingFlags runs.
			&cli.StringFlag{Name: "evidence", EnvVars: env("evidence"), Usage: "what proves it: a link, ticket or note (required)"},
		}, stateFlags(true)...),
		Action: func(c *cli.Context) error {
			args, err := trailingFlags(c)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return usagef(c, "give exactly one STEP, e.g. delist-google")
			}
			if c.String("evidence") == "" {
				return usagef(c, "--evidence is required: a link, ticket or note that proves the step is done")
			}
			s, err := openState(c)
			if err != nil {
				return err
			}
			st, err := s.Confirm(c.Context, args[0], c.String("evidence"))
			if err != nil {
				return err
			}
			verb := "confirmed"
			if c.Bool("dry-run") {
				verb = "would confirm"
			}
			fmt.Fprintf(c.App.Writer, "%s %s: done by %s, evidence: %s\n", verb, st.Step, st.Actor, st.Evidence)
			dryRunNote(c)
			return nil
		},
	}
}

func runbookICSCommand() *cli.Command {
	return &cli.Command{
		Name:  "ics",
		Usage: "print the milestones as an iCalendar file (RFC 5545)",
		Description: "One event per step, with its state and what to do. UIDs stay the same across\n" +
			"reschedules, so re-importing updates the events.\n\n" +
			"Example:\n" +
			"  periscope-sunset runbook ics > shutdown.ics",
		Flags: stateFlags(false),
		Action: func(c *cli.Context) error {
			s, err := openState(c)
			if err != nil {
				return err
			}
			return s.Calendar(c.Context, c.App.Writer)
		},
	}
}

func runbookAuditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "list every audited change in time order",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print one JSON object per event, with before and after"},
		}, stateFlags(false)...),
		Action: func(c *cli.Context) error {
			s, err := openState(c)
			if err != nil {
				return err
			}
			events, err := s.Audit(c.Context)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				for _, e := range events {
					if err := enc.Encode(e); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tSUBJECT\tRESULT\tDETAIL")
			for _, e := range events {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Actor, e.Action,
					orDash(e.Subject), orDash(e.Result), orDash(oneLine(e.Detail, 100)))
			}
			return tw.Flush()
		},
	}
}

// trailingFlags parses flags given after the positional arguments, as in
// "confirm STEP --evidence TEXT": urfave/cli stops parsing flags at the
// first argument and leaves the rest as arguments. It returns the
// positional arguments.
func trailingFlags(c *cli.Context) ([]string, error) {
	args := c.Args().Slice()
	var pos []string
	for len(args) > 0 {
		switch a := args[0]; {
		case a == "--":
			return append(pos, args[1:]...), nil
		case a == "-" || !strings.HasPrefix(a, "-"):
			pos, args = append(pos, a), args[1:]
			continue
		}
		fs := flag.NewFlagSet(c.Command.Name, flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		for _, f := range c.Command.Flags {
			if err := f.Apply(fs); err != nil {
				return nil, err
			}
		}
		if err := fs.Parse(args); err != nil {
			return nil, usagef(c, "%v", err)
		}
		var serr error
		fs.Visit(func(f *flag.Flag) {
			if err := c.Set(f.Name, f.Value.String()); err != nil && serr == nil {
				serr = usagef(c, "--%s: %v", f.Name, err)
			}
		})
		if serr != nil {
			return nil, serr
		}
		args = fs.Args()
	}
	return pos, nil
}

// oneLine keeps a table cell on one line and at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
