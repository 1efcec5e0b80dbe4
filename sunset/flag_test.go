package sunset

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func TestFlagBlockUnblock(t *testing.T) {
	ctx := context.Background()
	st, _ := blob.NewFile(t.TempDir())
	clk := newClock(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
	s := Open(st, clk.opts("ana"))

	f, err := s.Flag(ctx)
	if err != nil || f.Blocked || f.Version != 0 {
		t.Fatalf("fresh flag = %+v, %v; want open, version 0", f, err)
	}
	sunsetAt := time.Date(2027, 3, 31, 7, 0, 0, 0, time.UTC)
	ch, err := s.Block(ctx, BlockRequest{Reason: "shutting down", InfoURL: "https://example.com/bye", SunsetDate: sunsetAt})
	if err != nil || !ch.Changed || ch.After.Version != 1 || !ch.After.Blocked {
		t.Fatalf("block = %+v, %v", ch, err)
	}
	f, _ = s.Flag(ctx)
	want := Flag{Blocked: true, Reason: "shutting down", InfoURL: "https://example.com/bye", SunsetDate: sunsetAt,
		BlockedSince: clk.now(), UpdatedAt: clk.now(), UpdatedBy: "ana", Version: 1}
	if f != want {
		t.Fatalf("flag = %+v\nwant %+v", f, want)
	}
	// The same block again changes nothing and writes nothing.
	if ch, err := s.Block(ctx, BlockRequest{Reason: "shutting down"}); err != nil || ch.Changed {
		t.Fatalf("repeat block = %+v, %v; want no change", ch, err)
	}
	clk.add(time.Hour)
	ch, err = Open(st, clk.opts("bo")).Unblock(ctx, "blocked by mistake", false)
	if err != nil || ch.After.Blocked || ch.After.Version != 2 || ch.After.InfoURL == "" || ch.After.UpdatedBy != "bo" {
		t.Fatalf("unblock = %+v, %v; want open, version 2, sunset kept", ch.After, err)
	}
	ch, err = s.Unblock(ctx, "shutdown called off", true)
	if err != nil || ch.After.InfoURL != "" || !ch.After.SunsetDate.IsZero() {
		t.Fatalf("unblock --clear-sunset = %+v, %v", ch.After, err)
	}
	if n := len(listKeys(t, st, flagPrefix)); n != 3 {
		t.Errorf("%d flag versions stored, want 3", n)
	}
	if n, m := countActions(t, s, "signups.block"), countActions(t, s, "signups.unblock"); n != 1 || m != 2 {
		t.Errorf("audit has %d blocks and %d unblocks, want 1 and 2", n, m)
	}
}

func TestFlagValidation(t *testing.T) {
	st, _ := blob.NewFile(t.TempDir())
	s := Open(st, Options{})
	for _, req := range []BlockRequest{
		{},
		{Reason: "x", InfoURL: "example.com/no-scheme"},
		{Reason: "x", InfoURL: "ftp://example.com/"},
		{Reason: "x", InfoURL: `https://example.com/a>b`},
		{Reason: "x", InfoURL: "https://example.com/a b"},
	} {
		if _, err := s.Block(context.Background(), req); err == nil {
			t.Errorf("Block(%+v) succeeded, want an error", req)
		}
	}
	if keys := listKeys(t, st, ""); len(keys) != 0 {
		t.Errorf("invalid blocks stored %v", keys)
	}
}

func TestFlagDryRunWritesNothing(t *testing.T) {
	ctx := context.Background()
	st, _ := blob.NewFile(t.TempDir())
	s := Open(blob.DryRun{Store: st}, Options{Actor: "ana", DryRun: true})
	ch, err := s.Block(ctx, BlockRequest{Reason: "test"})
	if err != nil || !ch.DryRun || !ch.Changed || ch.After.Version != 1 {
		t.Fatalf("dry-run block = %+v, %v", ch, err)
	}
	// Even without the wrapper, the library itself writes nothing.
	if _, err := Open(st, Options{DryRun: true}).Block(ctx, BlockRequest{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	if keys := listKeys(t, st, ""); len(keys) != 0 {
		t.Fatalf("dry run stored %v", keys)
	}
}

// TestConcurrentBlock has operators who all read the same flag version
// block at once: exactly one wins, every other gets a ConflictError that
// names the winner, and the store and audit log hold exactly one change.
func TestConcurrentBlock(t *testing.T) {
	backends(t, func(t *testing.T, newStore func() blob.Store) {
		const n = 6
		st := newStore()
		race := newRaceStore(st, n, func(k string) bool { return strings.HasPrefix(k, flagPrefix) })
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				s := Open(race, Options{Actor: fmt.Sprintf("op%d", i)})
				_, errs[i] = s.Block(context.Background(), BlockRequest{Reason: fmt.Sprintf("reason %d", i)})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			var ce *ConflictError
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("op%d and op%d both won", winner, i)
			case err == nil:
				winner = i
			case !errors.As(err, &ce) || !errors.Is(err, blob.ErrPrecondition):
				t.Fatalf("op%d: %v, want a ConflictError", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("nobody won")
		}
		w := fmt.Sprintf("op%d", winner)
		for i, err := range errs {
			if i == winner {
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, "the sign-up flag changed since it was read (by "+w+" at ") ||
				!strings.HasSuffix(msg, "rerun to see the new state") {
				t.Errorf("op%d's error does not name the winner: %q", i, msg)
			}
		}
		s := Open(st, Options{})
		f, err := s.Flag(context.Background())
		if err != nil || f.Version != 1 || f.UpdatedBy != w || f.Reason != fmt.Sprintf("reason %d", winner) {
			t.Fatalf("flag = %+v, %v; want version 1 by %s", f, err, w)
		}
		if got := countActions(t, s, "signups.block"); got != 1 {
			t.Errorf("audit has %d blocks, want 1", got)
		}
	})
}
