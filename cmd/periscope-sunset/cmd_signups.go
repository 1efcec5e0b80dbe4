package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/sunset"
	"github.com/periscope-sunset/periscope-sunset/sunset/gate"
)

func signupsCommand() *cli.Command {
	return &cli.Command{
		Name:  "signups",
		Usage: "block new account creation, enforce it with a gate, and prove it",
		Description: "The sign-up flag lives in the state store (--state, default ./sunset-state, or\n" +
			"s3://bucket/prefix). Changes are conditional writes: if two operators change it at\n" +
			"once, one wins and the other is told who changed it first. Every change is audited.\n\n" +
			"Examples:\n" +
			"  periscope-sunset signups block --reason \"Periscope is shutting down\" \\\n" +
			"      --info-url https://example.com/shutdown --sunset-date 2027-03-31 --tz America/Los_Angeles\n" +
			"  periscope-sunset signups status\n" +
			"  periscope-sunset signups gate --upstream http://127.0.0.1:3000 --listen :8080 \\\n" +
			"      --signup-route \"POST /signup\" --signup-route \"POST /api/v1/users\"\n" +
			"  periscope-sunset signups verify --endpoint https://app.example.com/signup",
		Subcommands: []*cli.Command{
			signupsBlockCommand(), signupsUnblockCommand(), signupsStatusCommand(),
			signupsGateCommand(), signupsVerifyCommand(),
		},
	}
}

func signupsBlockCommand() *cli.Command {
	return &cli.Command{
		Name:  "block",
		Usage: "refuse new sign-ups (410 Gone at the gate) from now on",
		Description: "Sets the sign-up flag. --info-url becomes the Link: <url>; rel=\"sunset\" header and\n" +
			"--sunset-date the Sunset header the gate adds to every response. Running it again with\n" +
			"other values updates them.\n\n" +
			"Example:\n" +
			"  periscope-sunset signups block --reason \"Periscope is shutting down\" \\\n" +
			"      --info-url https://example.com/shutdown --sunset-date 2027-03-31",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "reason", EnvVars: env("reason"), Required: true, Usage: "why, shown to users and in the audit log"},
			&cli.StringFlag{Name: "info-url", EnvVars: env("info-url"), Usage: "page that explains the shutdown (Link header, refusal body)"},
			&cli.StringFlag{Name: "sunset-date", EnvVars: env("sunset-date"),
				Usage: "when the service goes away (Sunset header): RFC 3339 or a date, midnight in --tz"},
			tzFlag(),
		}, stateFlags(true)...),
		Action: runSignupsBlock,
	}
}

func runSignupsBlock(c *cli.Context) error {
	when, err := timeFlag(c, "sunset-date")
	if err != nil {
		return err
	}
	s, err := openState(c)
	if err != nil {
		return err
	}
	ch, err := s.Block(c.Context, sunset.BlockRequest{Reason: c.String("reason"), InfoURL: c.String("info-url"), SunsetDate: when})
	if err != nil {
		return err
	}
	printFlagChange(c, "block", ch)
	return nil
}

func signupsUnblockCommand() *cli.Command {
	return &cli.Command{
		Name:  "unblock",
		Usage: "let new sign-ups in again",
		Description: "Clears the sign-up flag. The Sunset and Link headers stay unless --clear-sunset is\n" +
			"given (the shutdown is called off).\n\n" +
			"Example:\n" +
			"  periscope-sunset signups unblock --reason \"blocked by mistake\"",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "reason", EnvVars: env("reason"), Required: true, Usage: "why, for the audit log"},
			&cli.BoolFlag{Name: "clear-sunset", Usage: "also drop the sunset date and info URL"},
		}, stateFlags(true)...),
		Action: func(c *cli.Context) error {
			s, err := openState(c)
			if err != nil {
				return err
			}
			ch, err := s.Unblock(c.Context, c.String("reason"), c.Bool("clear-sunset"))
			if err != nil {
				return err
			}
			printFlagChange(c, "unblock", ch)
			return nil
		},
	}
}

func printFlagChange(c *cli.Context, verb string, ch sunset.FlagChange) {
	w := c.App.Writer
	switch {
	case !ch.Changed:
		fmt.Fprintf(w, "nothing to change: the flag already says this (version %d, by %s at %s)\n",
			ch.Before.Version, ch.Before.UpdatedBy, showTime(ch.Before.UpdatedAt, time.UTC))
	case ch.DryRun:
		fmt.Fprintf(w, "would %s sign-ups: flag version %d -> %d\n", verb, ch.Before.Version, ch.After.Version)
		fmt.Fprintln(w, "before:")
		printFlag(w, ch.Before)
		fmt.Fprintln(w, "after:")
		printFlag(w, ch.After)
	default:
		fmt.Fprintf(w, "sign-ups %sed (flag version %d, by %s)\n", verb, ch.After.Version, ch.After.UpdatedBy)
		printFlag(w, ch.After)
	}
	dryRunNote(c)
}

func printFlag(w io.Writer, f sunset.Flag) {
	state := "open"
	if f.Blocked {
		state = "BLOCKED"
	}
	fmt.Fprintf(w, "  sign-ups:    %s\n", state)
	fmt.Fprintf(w, "  reason:      %s\n", orDash(f.Reason))
	fmt.Fprintf(w, "  info URL:    %s\n", orDash(f.InfoURL))
	fmt.Fprintf(w, "  sunset date: %s\n", showTime(f.SunsetDate, time.UTC))
	if f.Version > 0 {
		fmt.Fprintf(w, "  changed:     %s by %s (version %d)\n", showTime(f.UpdatedAt, time.UTC), f.UpdatedBy, f.Version)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func signupsStatusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show the sign-up flag and what the gate enforces",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print one JSON object"},
		}, stateFlags(false)...),
		Action: func(c *cli.Context) error {
			s, err := openState(c)
			if err != nil {
				return err
			}
			f, err := s.Flag(c.Context)
			if err != nil {
				return err
			}
			gs, err := s.GateSource().GateState(c.Context)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return json.NewEncoder(c.App.Writer).Encode(struct {
					sunset.Flag
					Gate gate.State `json:"gate"`
				}{f, gs})
			}
			printFlag(c.App.Writer, f)
			fmt.Fprintf(c.App.Writer, "  read-only:   %s\n", showTime(gs.ReadOnlyAt, time.UTC))
			fmt.Fprintf(c.App.Writer, "  state:       %s\n", s.Store())
			return nil
		},
	}
}

func signupsGateCommand() *cli.Command {
	return &cli.Command{
		Name:  "gate",
		Usage: "run a reverse proxy that applies the sign-up gate in front of an app",
		Description: "For apps not written in Go (Go apps embed the sunset/gate package). Requests to the sign-up routes\n" +
			"get 410 Gone with a JSON body {code, message, info_url} while sign-ups are blocked; after\n" +
			"the read-only milestone every POST/PUT/PATCH/DELETE gets 410 Gone (code read_only) except\n" +
			"the --read-only-allow routes. Every response carries the Sunset and Link headers once set.\n" +
			"Routes match whatever the spelling: case, trailing or doubled slashes, percent-encoding,\n" +
			"dot segments, ;params, .json suffixes, HEAD for GET routes, method overrides, queries.\n" +
			"A path with a control character (raw or %-encoded) gets 400. Only WebSocket upgrades pass\n" +
			"(h2c and every other upgrade are stripped), and only where the gate lets the route through;\n" +
			"a WebSocket after read-only needs a \"WEBSOCKET /path\" or \"ANY /path\" allow entry.\n" +
			"The state is re-read every --refresh; if the store is unreachable the last state stays,\n" +
			"and until it has been read once sign-ups get 503 (closed, not yet known). SIGTERM or\n" +
			"SIGINT drains requests in flight and exits 0.\n" +
			"GET --status-path (default /sunset.json) is answered by the gate itself: a cacheable JSON\n" +
			"document {signups_blocked, since, sunset, read_only_at, info_url, message} for apps to read.\n\n" +
			"Example:\n" +
			"  periscope-sunset signups gate --upstream http://127.0.0.1:3000 --listen :8080 \\\n" +
			"      --signup-route \"POST /signup\" --signup-route \"POST /api/v1/users\" \\\n" +
			"      --read-only-allow \"POST /api/v1/export-requests\" --state s3://ops/sunset",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "upstream", EnvVars: env("upstream"), Required: true, Usage: "the app's base URL, e.g. http://127.0.0.1:3000"},
			&cli.StringFlag{Name: "listen", EnvVars: env("listen"), Value: "127.0.0.1:8080", Usage: "address to serve on (host:port; port 0 picks one)"},
			&cli.StringSliceFlag{Name: "signup-route", EnvVars: env("signup-route"),
				Usage: "a sign-up route, \"METHOD /path\" (repeat for more; default \"POST /signup\")"},
			&cli.StringSliceFlag{Name: "read-only-allow", EnvVars: env("read-only-allow"),
				Usage: "a route that still takes writes after the read-only milestone (repeat for more)"},
			&cli.DurationFlag{Name: "refresh", EnvVars: env("refresh"), Value: 30 * time.Second, Usage: "how often to re-read the state"},
			&cli.StringFlag{Name: "status-path", EnvVars: env("status-path"), Value: gate.DefaultStatusPath,
				Usage: "where the gate answers the shutdown status JSON itself (docs/gate.md)"},
			metricsFlag(),
		}, stateFlags(false)...),
		Action: runSignupsGate,
	}
}

func runSignupsGate(c *cli.Context) error {
	up, err := url.Parse(c.String("upstream"))
	if err != nil || (up.Scheme != "http" && up.Scheme != "https") || up.Host == "" {
		return usagef(c, "--upstream %q: want an absolute http(s) URL", c.String("upstream"))
	}
	signups, err := gate.ParseRoutes(c.StringSlice("signup-route"))
	if err != nil {
		return usagef(c, "--signup-route: %v", err)
	}
	allow, err := gate.ParseRoutes(c.StringSlice("read-only-allow"))
	if err != nil {
		return usagef(c, "--read-only-allow: %v", err)
	}
	if c.Duration("refresh") <= 0 {
		return usagef(c, "--refresh must be positive, e.g. 30s")
	}
	if err := gate.CheckStatusPath(c.String("status-path")); err != nil {
		return usagef(c, "--status-path: %v", err)
	}
	s, err := openState(c)
	if err != nil {
		return err
	}
	reg, err := startMetrics(c, &blob.S3Config{})
	if err != nil {
		return err
	}
	var onDecision func(route, outcome string)
	if reg != nil {
		onDecision = reg.GateDecision
	}
	g := gate.New(s.GateSource(), gate.Options{
		OnDecision:    onDecision,
		SignupRoutes:  signups,
		ReadOnlyAllow: allow,
		Refresh:       c.Duration("refresh"),
		StatusPath:    c.String("status-path"),
		OnRefreshError: func(err error) {
			fmt.Fprintf(c.App.ErrWriter, "periscope-sunset: %v (keeping the last state read)\n", err)
		},
	})
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	fmt.Fprintf(c.App.Writer, "gate listening on http://%s, proxying to %s (state %s)\n", ln.Addr(), up, s.Store())
	return gate.ServeProxy(c.Context, ln, up, g, 0)
}

func signupsVerifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "prove the live sign-up route is refused (410 Gone with a valid Sunset header)",
		Description: "Sends one probe sign-up (a JSON body with no user data, so an ungated service answers\n" +
			"with a validation error, not an account) and succeeds only if it is refused with 410 Gone\n" +
			"and a Sunset header that parses as an HTTP-date. The result, proof or not, goes to the\n" +
			"audit log. Exits 0 when proven, 1 otherwise.\n\n" +
			"Example:\n" +
			"  periscope-sunset signups verify --endpoint https://app.example.com/signup",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "endpoint", EnvVars: env("endpoint"), Required: true, Usage: "the live sign-up URL"},
			&cli.StringFlag{Name: "method", EnvVars: env("method"), Value: "POST", Usage: "the sign-up route's method"},
			&cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print the result as JSON"},
		}, stateFlags(true)...),
		Action: func(c *cli.Context) error {
			s, err := openState(c)
			if err != nil {
				return err
			}
			res, err := s.VerifySignups(c.Context, sunset.ProbeRequest{Endpoint: c.String("endpoint"), Method: c.String("method")})
			printProbe(c, res)
			return err
		},
	}
}

func printProbe(c *cli.Context, res sunset.ProbeResult) {
	w := c.App.Writer
	if c.Bool("json") {
		json.NewEncoder(w).Encode(res)
		return
	}
	if res.OK {
		fmt.Fprintf(w, "PROVEN: %s %s answered 410 Gone (code %s), Sunset: %s\n", res.Method, res.Endpoint, orDash(res.Code), res.Sunset)
		if res.Link != "" {
			fmt.Fprintf(w, "  Link: %s\n", res.Link)
		}
	} else {
		fmt.Fprintf(w, "NOT PROVEN: %s %s: %s\n", res.Method, res.Endpoint, res.Problem)
	}
	if !c.Bool("dry-run") {
		fmt.Fprintln(w, "recorded in the audit log (periscope-sunset runbook audit)")
	}
	dryRunNote(c)
}
