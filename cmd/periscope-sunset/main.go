// Command periscope-sunset shuts a live-video service down cleanly: it
// exports every user's archive, verifies it, and runs the shutdown runbook.
// Each command lives in its own cmd_*.go file: flags -> Options -> one
// library call.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// Exit codes, as the README and docs/export.md ("Commands") document them for ops.
const (
	exitOK          = 0
	exitFailed      = 1   // the run could not proceed
	exitPartial     = 3   // some users failed, others finished
	exitInterrupted = 130 // interrupted; safe to rerun
)

func main() {
	ctx := watchSignals(context.Background(), os.Stderr, os.Exit)
	err := newApp().RunContext(ctx, os.Args)
	os.Exit(exitCode(err))
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "periscope-sunset",
		Usage:   "shut a live-video service down cleanly: export every user's archive, then close the doors",
		Version: toolVersion(),
		Description: "Every flag can also be set from an environment variable PERISCOPE_SUNSET_<FLAG>,\n" +
			"for example PERISCOPE_SUNSET_WORKERS=16. Stores are local folders, file:///path or\n" +
			"s3://bucket/prefix (standard AWS credential chain; AWS_ENDPOINT_URL_S3 or --s3-endpoint\n" +
			"for S3-compatible servers).\n\n" +
			"Exit codes: 0 all done; 1 the run could not proceed; 3 some users failed (the report\n" +
			"names each); 130 interrupted (safe to rerun).",
		Commands: []*cli.Command{
			exportCommand(),
			verifyCommand(),
			statusCommand(),
			planCommand(),
			linksCommand(),
			notifyCommand(),
			purgeCommand(),
			serveCommand(),
			dashboardCommand(),
			fixturesCommand(),
			signupsCommand(),
			delistCommand(),
			runbookCommand(),
		},
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {}, // main maps errors to exit codes
	}
	bindEnv(app.Commands, app.Flags)
	guardCommands(app.Commands)
	return app
}

// exitCode prints err for a person and maps it to the process's exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var partial *export.PartialError
	var verr *export.VerifyError
	var usage *usageError
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "periscope-sunset: interrupted; rerun the same command to resume")
		return exitInterrupted
	case errors.As(err, &partial), errors.As(err, &verr):
		fmt.Fprintln(os.Stderr, "periscope-sunset:", err)
		return exitPartial
	case errors.As(err, &usage):
		fmt.Fprintf(os.Stderr, "periscope-sunset: %v\nRun 'periscope-sunset %s --help' for usage.\n", err, usage.command)
		return exitFailed
	default:
		fmt.Fprintln(os.Stderr, "periscope-sunset:", err)
		return exitFailed
	}
}

// usageError is a bad flag value; main adds a pointer to --help.
type usageError struct {
	command string
	err     error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef makes a usage error that names the whole command path ("runbook
// confirm"), so the hint to run --help works for subcommands too.
func usagef(c *cli.Context, format string, args ...any) error {
	var names []string
	for _, x := range c.Lineage() {
		if x.Command != nil && x.Command.Name != "" && x.Command.Name != c.App.Name {
			names = append([]string{x.Command.Name}, names...)
		}
	}
	return &usageError{command: strings.Join(names, " "), err: fmt.Errorf(format, args...)}
}

func toolVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
