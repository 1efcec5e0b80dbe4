package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/syncbuf"
)

// startStopper runs a stopper on a signal channel the test feeds.
func startStopper(t *testing.T, drain time.Duration) (sigs chan os.Signal, ctx context.Context, exited chan int, out *syncbuf.Buffer) {
	out = &syncbuf.Buffer{}
	exited = make(chan int, 2)
	s := &stopper{errw: out, exit: func(code int) { exited <- code }, grace: 50 * time.Millisecond, drain: defaultDrain}
	s.setDrain(drain)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sigs = make(chan os.Signal, 2)
	go s.watch(sigs, cancel)
	return sigs, ctx, exited, out
}

func waitExit(t *testing.T, exited chan int, within time.Duration) int {
	t.Helper()
	select {
	case code := <-exited:
		return code
	case <-time.After(within):
		t.Fatalf("no exit within %v", within)
		return -1
	}
}

func TestStopperEndsAStuckCommand(t *testing.T) {
	sigs, ctx, exited, out := startStopper(t, 100*time.Millisecond)
	sigs <- syscall.SIGTERM
	<-ctx.Done() // the command is told at once
	if code := waitExit(t, exited, 10*time.Second); code != exitInterrupted {
		t.Fatalf("exit %d, want %d", code, exitInterrupted)
	}
	if s := out.String(); !strings.Contains(s, "terminated received") || !strings.Contains(s, "exiting now") {
		t.Errorf("stderr does not say what happened:\n%s", s)
	}
}

func TestStopperSecondSignalExitsAtOnce(t *testing.T) {
	sigs, ctx, exited, out := startStopper(t, time.Hour)
	sigs <- os.Interrupt
	<-ctx.Done()
	sigs <- os.Interrupt
	if code := waitExit(t, exited, 10*time.Second); code != exitInterrupted {
		t.Fatalf("exit %d, want %d", code, exitInterrupted)
	}
	if !strings.Contains(out.String(), "second signal") {
		t.Errorf("stderr:\n%s", out.String())
	}
}

// A drain set after the signal does not move the limit already given.
func TestStopperKeepsTheLimitItAnnounced(t *testing.T) {
	s := &stopper{drain: time.Second, signal: syscall.SIGTERM}
	s.setDrain(time.Hour)
	if s.drainTime() != time.Second {
		t.Fatalf("drain moved to %v after the signal", s.drainTime())
	}
}
