package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
)

// hardStopGrace is how long past its drain time a command may take to stop
// after SIGTERM before the process ends anyway. It covers what comes after
// the drain: aborting uploads, writing the run report. Only I/O that no
// context can interrupt (open(2) of a FIFO, a read of a hung NFS mount, a
// library that takes no context) ever runs into it.
const hardStopGrace = 10 * time.Second

// defaultDrain bounds commands that have no drain flag of their own.
const defaultDrain = 10 * time.Second

// drainFlags name the flags that say how long a command may drain.
var drainFlags = []string{"drain-timeout", "shutdown-timeout"}

// stopper turns the first SIGTERM or SIGINT into a cancelled context and
// guarantees the process ends: a command still running drain+hardStopGrace
// after the signal is ended with exit 130, and a second signal ends it at
// once. On AWS Batch a shard that hangs would otherwise hold its instance
// until the attempt timeout (24 hours by default).
type stopper struct {
	errw  io.Writer
	exit  func(int)
	grace time.Duration // hardStopGrace; shorter in tests

	mu     sync.Mutex
	drain  time.Duration
	signal os.Signal // the first signal, once received
}

type stopperKey struct{}

// watchSignals returns a context cancelled by the first SIGTERM/SIGINT and
// carrying the stopper, which commands tell their drain time.
func watchSignals(parent context.Context, errw io.Writer, exit func(int)) context.Context {
	s := &stopper{errw: errw, exit: exit, grace: hardStopGrace, drain: defaultDrain}
	ctx, cancel := context.WithCancel(context.WithValue(parent, stopperKey{}, s))
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go s.watch(sigs, cancel)
	return ctx
}

func (s *stopper) watch(sigs <-chan os.Signal, cancel context.CancelFunc) {
	first := <-sigs
	s.mu.Lock()
	s.signal = first
	limit := s.drain + s.grace
	s.mu.Unlock()
	fmt.Fprintf(s.errw, "periscope-sunset: %v received: stopping (work in flight may take %v; the process ends within %v; a second signal ends it now)\n",
		first, s.drainTime(), limit)
	cancel()
	timer := time.NewTimer(limit)
	select {
	case sig := <-sigs:
		fmt.Fprintf(s.errw, "periscope-sunset: second signal (%v): exiting now; rerun the same command to resume\n", sig)
	case <-timer.C:
		fmt.Fprintf(s.errw, "periscope-sunset: still running %v after %v: exiting now (I/O that could not be interrupted); rerun the same command to resume\n",
			limit, first)
	}
	s.exit(exitInterrupted)
}

func (s *stopper) drainTime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drain
}

// setDrain records how long the running command may drain. A signal that
// already arrived keeps the limit it was given.
func (s *stopper) setDrain(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.signal == nil && d > 0 {
		s.drain = d
	}
}

// registerDrain tells the stopper (when main installed one) the drain time
// the command's flags give. Zero is refused: the libraries read it as
// "the default", which is not what someone who typed 0 meant.
func registerDrain(c *cli.Context) error {
	s, _ := c.Context.Value(stopperKey{}).(*stopper)
	for _, name := range drainFlags {
		if !hasFlag(c.Command, name) {
			continue
		}
		d := c.Duration(name)
		if d == 0 {
			return usagef(c, "--%s 0: want a positive duration (1s stops almost at once)", name)
		}
		if s != nil {
			s.setDrain(d)
		}
	}
	return nil
}

func hasFlag(cmd *cli.Command, name string) bool {
	if cmd == nil {
		return false
	}
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// drainFlag is the --drain-timeout every long-running command takes; what
// says what happens during the drain.
func drainFlag(def time.Duration, what string) cli.Flag {
	return &cli.DurationFlag{Name: "drain-timeout", EnvVars: env("drain-timeout"), Value: def,
		Usage: "on SIGTERM/SIGINT, " + what + "; the process ends at most " +
			hardStopGrace.String() + " after this, whatever it is waiting on"}
}

// untilStopped runs fn, a library call that takes no context, and gives up
// on it drain after ctx is cancelled, returning ctx's error: the process
// then exits 130 while fn is still reading.
func untilStopped[T any](ctx context.Context, drain time.Duration, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
	}
	t := time.NewTimer(drain)
	defer t.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-t.C:
		var zero T
		return zero, ctx.Err()
	}
}
