package sunset

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// TestAuditConcurrentAppends: writers appending at once never lose an
// event, and events list in time order.
func TestAuditConcurrentAppends(t *testing.T) {
	backends(t, func(t *testing.T, newStore func() blob.Store) {
		ctx := context.Background()
		st := newStore()
		// Every writer stamps the same instant: the keys must still differ.
		clk := newClock(time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC))
		const n = 20
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = Open(st, clk.opts(fmt.Sprintf("w%d", i))).Record(ctx, Event{Action: "test.event", Detail: fmt.Sprint(i)})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("writer %d: %v", i, err)
			}
		}
		clk.add(-time.Hour)
		if err := Open(st, clk.opts("early")).Record(ctx, Event{Action: "test.early"}); err != nil {
			t.Fatal(err)
		}
		events, err := Open(st, Options{}).Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != n+1 {
			t.Fatalf("%d events, want %d", len(events), n+1)
		}
		if events[0].Action != "test.early" {
			t.Errorf("first event %s, want the earliest", events[0].Action)
		}
		seen := map[string]bool{}
		for _, e := range events[1:] {
			seen[e.Actor] = true
		}
		if len(seen) != n {
			t.Errorf("%d distinct writers in the log, want %d", len(seen), n)
		}
	})
}

// TestAuditHasBeforeAndAfter checks what an entry records for a change.
func TestAuditHasBeforeAndAfter(t *testing.T) {
	ctx := context.Background()
	st, _ := blob.NewFile(t.TempDir())
	clk := newClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	s := Open(st, clk.opts("ana"))
	s.Block(ctx, BlockRequest{Reason: "first"})
	clk.add(time.Minute)
	s.Block(ctx, BlockRequest{Reason: "second"})
	events, err := s.Audit(ctx)
	if err != nil || len(events) != 2 {
		t.Fatalf("%d events, %v", len(events), err)
	}
	e := events[1]
	var before, after struct{ Reason string }
	json.Unmarshal(e.Before, &before)
	json.Unmarshal(e.After, &after)
	if e.Actor != "ana" || e.Action != "signups.block" || !e.Time.Equal(clk.now()) ||
		before.Reason != "first" || after.Reason != "second" {
		t.Fatalf("event = %+v\nbefore %s\nafter %s", e, e.Before, e.After)
	}
	if events[0].Before != nil {
		t.Errorf("first block has a before: %s", events[0].Before)
	}
}
