package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/notify"
	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

// SMTP credentials come from the environment or a file, never a flag value
// (which would show in ps and shell history).
const (
	envSMTPUsername = "PERISCOPE_SUNSET_SMTP_USERNAME"
	envSMTPPassword = "PERISCOPE_SUNSET_SMTP_PASSWORD"
)

func notifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "notify",
		Usage: "email every user whose export is complete their download link, exactly once",
		Description: "Reads users.jsonl from --source (each user's email and display name) and mails every\n" +
			"user with a completed export (manifest.json in --dest) a portal link signed with\n" +
			"--secret-file (the file `serve` is given), its expiry, the size and parts, how to check\n" +
			"the download, and the shutdown dates from the runbook (--state), in a plain-text and an\n" +
			"HTML part.\n\n" +
			"Each user is mailed once: <dest>/<user>/.notify.json is claimed before the message goes\n" +
			"and marked sent after, so reruns and concurrent runs never mail anyone twice. A claim\n" +
			"whose send was interrupted is listed as unknown and resent only with --resend USER, after\n" +
			"checking the mail log; so is a permanent refusal (5xx). Users without an email, without a\n" +
			"finished export or with an address that is not one plain mailbox are listed, never mailed.\n\n" +
			"smtps:// is implicit TLS; smtp:// requires STARTTLS except to a loopback address. SMTP AUTH\n" +
			"credentials come from " + envSMTPUsername + " and " + envSMTPPassword + "\n" +
			"or --smtp-auth-file (username on the first line, password on the second).\n\n" +
			"Examples:\n" +
			"  periscope-sunset notify --source s3://live/archive --dest s3://exports/2021 \\\n" +
			"      --base-url https://download.example.com --secret-file /run/secrets/portal \\\n" +
			"      --smtp smtps://email-smtp.us-east-1.amazonaws.com --from exports@example.com \\\n" +
			"      --smtp-auth-file /run/secrets/ses-smtp --state s3://ops/sunset --dry-run",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "source", EnvVars: env("source"), Required: true,
				Usage: "the archive whose users.jsonl has each user's email"},
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"), Required: true,
				Usage: "where the exports are: folder, file:///path or s3://bucket/prefix"},
			&cli.StringFlag{Name: "base-url", EnvVars: env("base-url"), Required: true,
				Usage: "the portal's public address, e.g. https://download.example.com"},
			&cli.StringFlag{Name: "secret-file", EnvVars: env("secret-file"), Required: true,
				Usage: "file holding the link-signing secret: the one `serve` is given"},
			&cli.StringFlag{Name: "ttl", EnvVars: env("ttl"), Value: "30d",
				Usage: "how long the links work: 30d, 720h"},
			&cli.StringFlag{Name: "smtp", EnvVars: env("smtp"),
				Usage: "mail server: smtps://HOST:465 (implicit TLS) or smtp://HOST:587 (STARTTLS)"},
			&cli.StringFlag{Name: "smtp-auth-file", EnvVars: env("smtp-auth-file"),
				Usage: "file with the SMTP username (first line) and password (second line)"},
			&cli.StringFlag{Name: "from", EnvVars: env("from"), Required: true,
				Usage: "the sender's address, e.g. exports@example.com"},
			&cli.StringFlag{Name: "from-name", EnvVars: env("from-name"),
				Usage: "the sender's display name, e.g. \"Periscope\""},
			&cli.StringFlag{Name: "template", EnvVars: env("template"),
				Usage: "folder with text.tmpl and html.tmpl replacing the built-in message"},
			&cli.Float64Flag{Name: "rate", EnvVars: env("rate"), Value: notify.DefaultRate,
				Usage: "messages per second, at most"},
			&cli.BoolFlag{Name: "renotify-changed", EnvVars: env("renotify-changed"),
				Usage: "mail again users whose export changed since their email"},
			&cli.StringSliceFlag{Name: "resend", EnvVars: env("resend"),
				Usage: "mail this user again although an earlier send is unknown or was refused (repeat for more)"},
			&cli.StringFlag{Name: "progress", EnvVars: env("progress"), Value: "auto",
				Usage: "auto (a bar on a terminal, log lines otherwise), bar, log or none"},
		}, append(stateFlags(true), metricsFlag())...),
		Action: runNotify,
	}
}

func runNotify(c *cli.Context) error {
	opts, err := notifyOptions(c)
	if err != nil {
		return err
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	reg, err := startMetrics(c, &cfg)
	if err != nil {
		return err
	}
	src, err := openStore(c.Context, c, "source", cfg)
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
	if err := notifySchedule(c, state, &opts); err != nil {
		return err
	}
	prog, log, err := newProgress(c.String("progress"), "users")
	if err != nil {
		return usagef(c, "--progress: %v", err)
	}
	opts.Progress, opts.Log = notifyProgress{prog}, log
	if reg != nil {
		opts.Progress = reg.Notify(opts.Progress)
	}
	rep, err := notify.Run(c.Context, src, dst, opts)
	prog.Close()
	if rep != nil {
		printNotifyReport(c, rep)
		err = errors.Join(err, auditNotify(c, state, dst, rep, err))
	}
	dryRunNote(c)
	return err
}

// notifyOptions fills notify.Options from the flags, in one place.
func notifyOptions(c *cli.Context) (notify.Options, error) {
	o := notify.Options{BaseURL: c.String("base-url"), From: c.String("from"), FromName: c.String("from-name"),
		Rate:   c.Float64("rate"),
		DryRun: c.Bool("dry-run"), RenotifyChanged: c.Bool("renotify-changed"), Resend: c.StringSlice("resend")}
	var err error
	if o.TTL, err = units.ParseDuration(c.String("ttl")); err != nil || o.TTL <= 0 {
		return o, usagef(c, "--ttl %q: want a positive duration, e.g. 30d or 720h", c.String("ttl"))
	}
	if o.Rate <= 0 {
		return o, usagef(c, "--rate %v: want messages per second above 0", o.Rate)
	}
	for _, u := range o.Resend {
		if !export.ValidID(u) {
			return o, usagef(c, "--resend %q: not a valid user id", u)
		}
	}
	if _, err := notify.ParseAddress(o.From); err != nil {
		return o, usagef(c, "--from: %v", err)
	}
	if o.Signer, err = portal.ReadSecretFile(c.String("secret-file")); err != nil {
		return o, usagef(c, "--secret-file: %v", err)
	}
	if dir := c.String("template"); dir != "" {
		if o.Templates, err = notify.LoadTemplates(dir); err != nil {
			return o, usagef(c, "--template: %v", err)
		}
	}
	if c.String("smtp") == "" {
		if o.DryRun {
			return o, nil
		}
		return o, usagef(c, "--smtp is required (or --dry-run)")
	}
	smtp := notify.SMTPConfig{URL: c.String("smtp")}
	if smtp.Username, smtp.Password, err = smtpCredentials(c.String("smtp-auth-file")); err != nil {
		return o, usagef(c, "--smtp-auth-file: %v", err)
	}
	if o.Sender, err = notify.NewSMTPSender(smtp); err != nil {
		return o, usagef(c, "--smtp: %v", err)
	}
	return o, nil
}

// smtpCredentials reads the file when given, else the environment.
// Errors never include the secret.
func smtpCredentials(file string) (user, pass string, err error) {
	if file == "" {
		return os.Getenv(envSMTPUsername), os.Getenv(envSMTPPassword), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() && len(lines) < 2 {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if len(lines) != 2 || lines[0] == "" || lines[1] == "" {
		return "", "", fmt.Errorf("%s: want the username on the first line and the password on the second", file)
	}
	return lines[0], lines[1], sc.Err()
}

// notifySchedule takes the shutdown dates from the runbook, when it has a
// schedule, and warns when the links outlive the export window.
func notifySchedule(c *cli.Context, state *sunset.State, o *notify.Options) error {
	p, err := state.LoadSchedule(c.Context)
	if errors.Is(err, sunset.ErrNoSchedule) {
		fmt.Fprintf(c.App.ErrWriter, "note: no schedule in %s; the emails name no shutdown dates\n", state.Store())
		return nil
	}
	if err != nil {
		return err
	}
	o.Milestones = notify.MilestonesFrom(p)
	if m, ok := notify.WindowClose(p); ok && time.Now().Add(o.TTL).After(m.At) {
		fmt.Fprintf(c.App.ErrWriter, "warning: the links work until after the export window closes (%s); "+
			"exports purged then will be gone although the link still opens\n", m.At.Format(time.RFC3339))
	}
	return nil
}

// notifyProgress shows notify's per-user outcomes on the export's bar or log.
type notifyProgress struct{ p progress }

func (n notifyProgress) Start(users int) { n.p.Start(users) }
func (n notifyProgress) Done(o notify.Outcome) {
	n.p.Done(export.Outcome{User: o.User, Status: export.Status(o.Status)})
}

func printNotifyReport(c *cli.Context, rep *notify.Report) {
	verb := "sent"
	if rep.DryRun {
		verb = "would send"
	}
	fmt.Fprintf(c.App.Writer, "%s %d emails; already sent %d; not mailed: %d without email, %d not exported yet, "+
		"%d bad address, %d changed since mailed, %d unknown, %d refused, %d failed, %d taken by another run; report %s\n",
		verb, rep.Count(notify.StatusSent)+rep.Count(notify.StatusWouldSend), rep.Count(notify.StatusAlreadySent),
		rep.Count(notify.StatusNoEmail), rep.Count(notify.StatusNotReady), rep.Count(notify.StatusBadAddress),
		rep.Count(notify.StatusChanged), rep.Count(notify.StatusUnknown), rep.Count(notify.StatusRefused),
		rep.Count(notify.StatusFailed), rep.Count(notify.StatusBusy), rep.Key())
	for _, u := range rep.Users {
		fmt.Fprintf(c.App.ErrWriter, "  %s %s", u.Status, orDash(u.User))
		if u.Reason != "" {
			fmt.Fprintf(c.App.ErrWriter, ": %s", u.Reason)
		}
		fmt.Fprintln(c.App.ErrWriter)
	}
}

// auditNotify records the run in the runbook's audit log: counts only.
func auditNotify(c *cli.Context, state *sunset.State, dst blob.Store, rep *notify.Report, runErr error) error {
	result := "ok"
	if runErr != nil {
		result = "partial"
	}
	counts, _ := json.Marshal(rep.Counts)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Context), 30*time.Second)
	defer cancel()
	return state.Record(ctx, sunset.Event{Action: "export.notify", Subject: dst.String(), Result: result,
		Detail: "run " + rep.RunID + ", report " + rep.Key(), After: counts})
}
