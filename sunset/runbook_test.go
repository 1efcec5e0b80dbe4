package sunset

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// countingDelister records its calls and fails while failures > 0.
type countingDelister struct {
	calls    atomic.Int32
	failures atomic.Int32
}

func (d *countingDelister) Delist(ctx context.Context) (string, error) {
	d.calls.Add(1)
	if d.failures.Add(-1) >= 0 {
		return "", errors.New("App Store Connect PATCH: 500 Internal Server Error")
	}
	return "unavailable everywhere", nil
}

var delistDay = time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)

func schedule(t *testing.T, s *State, stores ...string) Schedule {
	t.Helper()
	ch, err := s.Schedule(context.Background(), ScheduleRequest{At: delistDay, Stores: stores, InfoURL: "https://example.com/bye"})
	if err != nil {
		t.Fatal(err)
	}
	return ch.After
}

func statesOf(t *testing.T, s *State) map[string]StepStatus {
	t.Helper()
	_, steps, err := s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]StepStatus{}
	for _, st := range steps {
		out[st.Step] = st
	}
	return out
}

func TestScheduleDefaults(t *testing.T) {
	st, _ := blob.NewFile(t.TempDir())
	la, _ := time.LoadLocation("America/Los_Angeles")
	clk := newClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	s := Open(st, clk.opts("ana"))
	ch, err := s.Schedule(context.Background(), ScheduleRequest{Location: la, Stores: []string{"google", "apple"}})
	if err != nil {
		t.Fatal(err)
	}
	p := ch.After
	if !p.DelistAt.Equal(time.Date(2027, 3, 31, 0, 0, 0, 0, la)) || p.TimeZone != "America/Los_Angeles" {
		t.Fatalf("default delisting = %v in %s, want 2027-03-31 00:00 Los Angeles", p.DelistAt, p.TimeZone)
	}
	want := map[string]time.Time{
		StepSignupsBlocked:    time.Date(2027, 3, 1, 0, 0, 0, 0, la), // PST, across the DST change: still midnight
		StepAnnouncement:      time.Date(2027, 3, 2, 0, 0, 0, 0, la),
		StepDelistApple:       time.Date(2027, 3, 31, 0, 0, 0, 0, la),
		StepDelistGoogle:      time.Date(2027, 3, 31, 0, 0, 0, 0, la),
		StepReadOnly:          time.Date(2027, 3, 31, 0, 0, 0, 0, la),
		StepExportWindowOpen:  time.Date(2027, 4, 7, 0, 0, 0, 0, la),
		StepExportWindowClose: time.Date(2027, 7, 6, 0, 0, 0, 0, la),
	}
	if len(p.Milestones) != len(want) {
		t.Fatalf("%d milestones, want %d", len(p.Milestones), len(want))
	}
	for _, m := range p.Milestones {
		if !m.Due.Equal(want[m.Step]) {
			t.Errorf("%s due %v, want %v", m.Step, m.Due.In(la), want[m.Step])
		}
	}
	// Only the stores named get a delisting step; rescheduling keeps the id.
	ch2, err := s.Schedule(context.Background(), ScheduleRequest{At: delistDay, Stores: []string{"google"}})
	if err != nil || ch2.After.ID != p.ID || ch2.After.Version != 2 || ch2.Before == nil {
		t.Fatalf("reschedule = %+v, %v", ch2, err)
	}
	if _, ok := ch2.After.Milestone(StepDelistApple); ok {
		t.Error("google-only schedule has an Apple step")
	}
	for _, bad := range []ScheduleRequest{{Stores: nil}, {Stores: []string{"amazon"}}, {Stores: []string{"apple"}, InfoURL: "nope"}} {
		if _, err := s.Schedule(context.Background(), bad); err == nil {
			t.Errorf("Schedule(%+v) succeeded", bad)
		}
	}
}

// TestTickLifecycle walks the runbook from before the first milestone to
// the end, with a failing App Store step retried on the next tick.
func TestTickLifecycle(t *testing.T) {
	ctx := context.Background()
	st, _ := blob.NewFile(t.TempDir())
	clk := newClock(delistDay.AddDate(0, 0, -31))
	s := Open(st, clk.opts("cron"))
	schedule(t, s, "apple", "google")
	apple := &countingDelister{}
	apple.failures.Store(1)

	rep, err := s.Tick(ctx, TickOptions{Apple: apple})
	if err != nil || len(rep.Runs) != 0 {
		t.Fatalf("tick before anything is due = %+v, %v", rep, err)
	}
	if got := statesOf(t, s)[StepSignupsBlocked].State; got != StatePending {
		t.Fatalf("signups-blocked is %s, want pending", got)
	}

	clk.set(delistDay.AddDate(0, 0, -30))
	if got := statesOf(t, s)[StepSignupsBlocked].State; got != StateDue {
		t.Fatalf("signups-blocked is %s at its due time, want due", got)
	}
	if _, err := s.Tick(ctx, TickOptions{Apple: apple}); err != nil {
		t.Fatal(err)
	}
	f, _ := s.Flag(ctx)
	if !f.Blocked || f.UpdatedBy != "cron" || !f.SunsetDate.Equal(delistDay) || f.InfoURL != "https://example.com/bye" {
		t.Fatalf("signups-blocked left the flag %+v", f)
	}

	clk.set(delistDay)
	rep, err = s.Tick(ctx, TickOptions{Apple: apple})
	var sf *StepsFailedError
	if !errors.As(err, &sf) || len(sf.Steps) != 1 || sf.Steps[0] != StepDelistApple {
		t.Fatalf("tick with a failing App Store = %v, want delist-apple failed", err)
	}
	states := statesOf(t, s)
	if a := states[StepDelistApple]; a.State != StateFailed || !strings.Contains(a.Error, "500") || a.Attempt != 1 {
		t.Fatalf("delist-apple = %+v, want failed with the App Store error", a)
	}
	g := states[StepDelistGoogle]
	if g.State != StateAwaiting {
		t.Fatalf("delist-google = %s, want awaiting confirmation", g.State)
	}
	if states[StepReadOnly].State != StateDone || states[StepAnnouncement].State != StateAwaiting {
		t.Fatalf("read-only %s, announcement %s", states[StepReadOnly].State, states[StepAnnouncement].State)
	}
	opened := false
	for _, r := range rep.Runs {
		if r.Step == StepDelistGoogle && r.Action == ActionOpened && strings.Contains(r.Instructions, "Play Console") {
			opened = true
		}
	}
	if !opened {
		t.Errorf("the tick did not print the Play Console steps: %+v", rep.Runs)
	}

	clk.add(time.Minute)
	if _, err := s.Tick(ctx, TickOptions{Apple: apple}); err != nil {
		t.Fatalf("retry tick: %v", err)
	}
	if a := statesOf(t, s)[StepDelistApple]; a.State != StateDone || a.Attempt != 2 || a.Evidence != "unavailable everywhere" {
		t.Fatalf("delist-apple after retry = %+v", a)
	}
	if apple.calls.Load() != 2 {
		t.Errorf("App Store called %d times, want 2 (one failure, one retry)", apple.calls.Load())
	}
	clk.add(time.Minute)
	if _, err := s.Tick(ctx, TickOptions{Apple: apple}); err != nil || apple.calls.Load() != 2 {
		t.Fatalf("a tick after success ran the step again (%d calls, %v)", apple.calls.Load(), err)
	}

	ops := Open(st, clk.opts("ana"))
	if _, err := ops.Confirm(ctx, StepDelistGoogle, "unpublished, OPS-42"); err != nil {
		t.Fatal(err)
	}
	if g := statesOf(t, s)[StepDelistGoogle]; g.State != StateDone || g.Actor != "ana" || g.Evidence != "unpublished, OPS-42" {
		t.Fatalf("delist-google after confirm = %+v", g)
	}
	if _, err := ops.Confirm(ctx, StepDelistGoogle, "again"); err == nil || !strings.Contains(err.Error(), "already done") {
		t.Errorf("second confirm = %v, want already done", err)
	}
	if _, err := ops.Confirm(ctx, "delist-amazon", "x"); err == nil {
		t.Error("confirm of an unknown step succeeded")
	}
	if _, err := ops.Confirm(ctx, StepAnnouncement, ""); err == nil {
		t.Error("confirm without evidence succeeded")
	}
	// A manual step can be confirmed before it is due.
	if st, err := ops.Confirm(ctx, StepExportWindowClose, "portal already down"); err != nil || st.State != StateDone {
		t.Fatalf("early confirm = %+v, %v", st, err)
	}
	if n := countActions(t, s, "runbook.confirm"); n != 2 {
		t.Errorf("audit has %d confirmations, want 2", n)
	}
}

func TestTickDryRunChangesNothing(t *testing.T) {
	ctx := context.Background()
	st, _ := blob.NewFile(t.TempDir())
	clk := newClock(delistDay)
	schedule(t, Open(st, clk.opts("ana")), "apple", "google")
	before := listKeys(t, st, "")
	apple := &countingDelister{}
	o := clk.opts("cron")
	o.DryRun = true
	rep, err := Open(blob.DryRun{Store: st}, o).Tick(ctx, TickOptions{Apple: apple})
	if err != nil {
		t.Fatal(err)
	}
	// Due on the delisting day: everything but the export window.
	if len(rep.Runs) != 5 || apple.calls.Load() != 0 {
		t.Fatalf("dry run: %d runs, %d App Store calls; want 5 and 0", len(rep.Runs), apple.calls.Load())
	}
	for _, r := range rep.Runs {
		if r.Action != ActionWouldRun {
			t.Errorf("%s: action %q, want %q", r.Step, r.Action, ActionWouldRun)
		}
	}
	if after := listKeys(t, st, ""); len(after) != len(before) {
		t.Fatalf("dry run stored %d new objects", len(after)-len(before))
	}
	if _, err := Open(st, o).Confirm(ctx, StepDelistGoogle, "x"); err != nil || len(listKeys(t, st, "")) != len(before) {
		t.Fatalf("dry-run confirm stored something (%v)", err)
	}
}

// TestStaleClaimIsTakenOver: a tick that died holding a claim blocks the
// step until its lease ends; then the next tick runs it.
func TestStaleClaimIsTakenOver(t *testing.T) {
	ctx := context.Background()
	st, _ := blob.NewFile(t.TempDir())
	clk := newClock(delistDay)
	o := clk.opts("cron")
	o.Lease = 10 * time.Minute
	s := Open(st, o)
	schedule(t, s, "apple")
	if _, err := s.claimAttempt(ctx, StepDelistApple, 1, "run", "crashed-tick"); err != nil {
		t.Fatal(err)
	}
	apple := &countingDelister{}
	clk.add(5 * time.Minute)
	if a := statesOf(t, s)[StepDelistApple]; a.State != StateRunning {
		t.Fatalf("within the lease the step is %s, want running", a.State)
	}
	if _, err := s.Tick(ctx, TickOptions{Apple: apple}); err != nil || apple.calls.Load() != 0 {
		t.Fatalf("a tick ran a step another tick holds (%d calls, %v)", apple.calls.Load(), err)
	}
	clk.add(6 * time.Minute)
	if a := statesOf(t, s)[StepDelistApple]; a.State != StateFailed || !strings.Contains(a.Error, "lease") {
		t.Fatalf("after the lease the step is %+v, want failed (lease ran out)", a)
	}
	if _, err := s.Tick(ctx, TickOptions{Apple: apple}); err != nil || apple.calls.Load() != 1 {
		t.Fatalf("the stale claim was not taken over (%d calls, %v)", apple.calls.Load(), err)
	}
	if a := statesOf(t, s)[StepDelistApple]; a.State != StateDone || a.Attempt != 2 {
		t.Fatalf("after takeover: %+v", a)
	}
}

// TestConcurrentTicks runs many ticks at once, all reading the same state
// before any writes: every step runs exactly once.
func TestConcurrentTicks(t *testing.T) {
	backends(t, func(t *testing.T, newStore func() blob.Store) {
		ctx := context.Background()
		const n = 8
		st := newStore()
		clk := newClock(delistDay.AddDate(0, 0, 100)) // every step due
		schedule(t, Open(st, clk.opts("ana")), "apple", "google")
		race := newRaceStore(st, n, func(k string) bool { return strings.HasSuffix(k, "-claim.json") })
		apple := &countingDelister{}
		reps := make([]TickReport, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				reps[i], errs[i] = Open(race, clk.opts(fmt.Sprintf("tick%d", i))).Tick(ctx, TickOptions{Apple: apple})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("tick%d: %v", i, err)
			}
		}
		if c := apple.calls.Load(); c != 1 {
			t.Errorf("the App Store step ran %d times, want 1", c)
		}
		ran := map[string]int{}
		for _, rep := range reps {
			for _, r := range rep.Runs {
				if r.Action == ActionRan || r.Action == ActionOpened {
					ran[r.Step]++
				}
			}
		}
		s := Open(st, clk.opts("check"))
		for step, stStatus := range statesOf(t, s) {
			if ran[step] != 1 || stStatus.Attempt != 1 {
				t.Errorf("%s: run by %d ticks, attempt %d; want exactly one", step, ran[step], stStatus.Attempt)
			}
			if claims := listKeys(t, st, stepsPrefix+step+"/"); len(claims) != 2 {
				t.Errorf("%s: records %v, want one claim and one result", step, claims)
			}
		}
		if f, _ := s.Flag(ctx); f.Version != 1 {
			t.Errorf("flag version %d, want 1", f.Version)
		}
		if got := countActions(t, s, "runbook.step"); got != 7 {
			t.Errorf("audit has %d step events, want 7", got)
		}
	})
}
