package sunset

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Delister takes the app off one store and returns evidence of it (what
// changed, and the state read back). It must be safe to call again after
// a failure: the runbook retries failed steps.
type Delister interface {
	Delist(ctx context.Context) (evidence string, err error)
}

// TickOptions give the tick what its steps need.
type TickOptions struct {
	// Apple removes the app from the App Store; nil leaves the step failed
	// with a hint to configure App Store Connect.
	Apple Delister
}

// What a tick did with one step.
const (
	ActionRan      = "ran"       // ran an automatic step
	ActionOpened   = "opened"    // opened a manual step: instructions printed, awaiting confirmation
	ActionWaiting  = "waiting"   // a manual step still awaits confirmation
	ActionWouldRun = "would run" // dry run
	ActionSkipped  = "skipped"   // another tick holds the step
)

// StepRun is what one tick did with one due step.
type StepRun struct {
	Step         string `json:"step"`
	Action       string `json:"action"`
	Outcome      string `json:"outcome,omitempty"` // the step's state after the tick
	Evidence     string `json:"evidence,omitempty"`
	Error        string `json:"error,omitempty"`
	Instructions string `json:"instructions,omitempty"`
}

// TickReport lists what a tick did, step by step; steps not due and steps
// already done are left out.
type TickReport struct {
	Now      time.Time   `json:"now"`
	Runs     []StepRun   `json:"runs"`
	Next     *StepStatus `json:"next,omitempty"` // the next step not due yet, if any
	TimeZone string      `json:"time_zone"`      // the plan's
	DryRun   bool        `json:"dry_run,omitempty"`
}

// Location is the schedule's time zone, for showing times.
func (r TickReport) Location() *time.Location { return Schedule{TimeZone: r.TimeZone}.Location() }

// StepsFailedError says which steps failed in a tick; the others ran.
type StepsFailedError struct{ Steps []string }

func (e *StepsFailedError) Error() string {
	return fmt.Sprintf("%d step(s) failed: %s; the next tick retries them", len(e.Steps), strings.Join(e.Steps, ", "))
}

// Tick runs every due step that no other tick has claimed, once. Any number
// of ticks may run at once against one store: each step attempt is claimed
// with a create-only write, so exactly one tick runs it.
func (s *State) Tick(ctx context.Context, o TickOptions) (TickReport, error) {
	p, statuses, err := s.Status(ctx)
	if err != nil {
		return TickReport{}, err
	}
	rep := TickReport{Now: s.now(), TimeZone: p.TimeZone, DryRun: s.dry}
	tickID := randomID(8)
	var failed []string
	for _, st := range statuses {
		if st.State == StatePending && (rep.Next == nil || st.Due.Before(rep.Next.Due)) {
			rep.Next = &st
		}
		run, ok := s.tickStep(ctx, p, st, o, tickID)
		if !ok {
			continue
		}
		if run.Outcome == StateFailed {
			failed = append(failed, st.Step)
		}
		rep.Runs = append(rep.Runs, run)
	}
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if len(failed) > 0 {
		return rep, &StepsFailedError{Steps: failed}
	}
	return rep, nil
}

// tickStep acts on one step; ok is false when there was nothing to do.
func (s *State) tickStep(ctx context.Context, p Schedule, st StepStatus, o TickOptions, tickID string) (StepRun, bool) {
	run := StepRun{Step: st.Step}
	switch st.State {
	case StatePending, StateDone:
		return run, false
	case StateRunning:
		run.Action, run.Outcome = ActionSkipped, StateRunning
		run.Evidence = fmt.Sprintf("claimed by %s at %s", st.Actor, st.At.Format(time.RFC3339))
		return run, true
	case StateAwaiting:
		run.Action, run.Outcome, run.Instructions = ActionWaiting, StateAwaiting, Instructions(st.Step)
		return run, true
	}
	if s.dry {
		run.Action, run.Outcome, run.Instructions = ActionWouldRun, st.State, Instructions(st.Step)
		return run, true
	}
	n := st.Attempt + 1
	if _, err := s.claimAttempt(ctx, st.Step, n, "run", tickID); err != nil {
		if IsConflict(err) {
			run.Action, run.Outcome, run.Evidence = ActionSkipped, StateRunning, "another tick claimed it first"
			return run, true
		}
		run.Action, run.Outcome, run.Error = ActionRan, StateFailed, fmt.Sprintf("claim: %v", err)
		return run, true
	}
	res := s.runStep(ctx, p, st, o)
	res.Attempt, res.Actor, res.At = n, s.actor, s.now()
	run.Action, run.Outcome, run.Evidence, run.Error = ActionRan, res.Outcome, res.Evidence, res.Error
	if res.Outcome == StateAwaiting {
		run.Action, run.Instructions = ActionOpened, Instructions(st.Step)
	}
	if err := createJSON(ctx, s.st, recordKey(st.Step, n, recResult), res); err != nil {
		// The claim's lease runs out and a later tick retries the step.
		run.Outcome, run.Error = StateFailed, fmt.Sprintf("record the result: %v", err)
		return run, true
	}
	err := s.record(ctx, Event{Action: "runbook.step", Subject: st.Step, Result: res.Outcome,
		Detail: strings.TrimSpace(res.Evidence + " " + res.Error),
		Before: rawJSON(map[string]any{"state": st.State, "attempt": st.Attempt}),
		After:  rawJSON(map[string]any{"state": res.Outcome, "attempt": n})})
	if err != nil {
		run.Error = strings.TrimSpace(run.Error + " " + err.Error())
	}
	return run, true
}

// runStep does the step's work within a deadline inside the claim's lease,
// so a slow step stops before another tick may take it over.
func (s *State) runStep(ctx context.Context, p Schedule, st StepStatus, o TickOptions) resultRec {
	ctx, cancel := context.WithTimeout(ctx, s.lease/2)
	defer cancel()
	if st.Kind == KindManual {
		return resultRec{Outcome: StateAwaiting}
	}
	evidence, err := s.autoStep(ctx, p, st.Step, o)
	if err != nil {
		return resultRec{Outcome: StateFailed, Evidence: evidence, Error: err.Error()}
	}
	return resultRec{Outcome: StateDone, Evidence: evidence}
}

func (s *State) autoStep(ctx context.Context, p Schedule, step string, o TickOptions) (string, error) {
	switch step {
	case StepSignupsBlocked:
		return s.blockForSchedule(ctx, p)
	case StepDelistApple:
		if o.Apple == nil {
			return "", errors.New("App Store Connect is not configured: give the tick --asc-key-file, " +
				"--asc-key-id, --asc-issuer-id and --asc-app-id")
		}
		return o.Apple.Delist(ctx)
	case StepReadOnly:
		return "the gate refuses POST, PUT, PATCH and DELETE (except allowlisted routes) from " +
			readOnlyAt(p).Format(time.RFC3339), nil
	}
	return "", fmt.Errorf("no automatic action for step %q", step)
}

// blockForSchedule sets the sign-up flag unless it is set already.
func (s *State) blockForSchedule(ctx context.Context, p Schedule) (string, error) {
	f, err := s.Flag(ctx)
	if err != nil {
		return "", err
	}
	if f.Blocked {
		return fmt.Sprintf("sign-ups already blocked by %s at %s (flag version %d)",
			f.UpdatedBy, f.UpdatedAt.Format(time.RFC3339), f.Version), nil
	}
	ch, err := s.Block(ctx, BlockRequest{
		Reason:     "sign-ups closed ahead of the delisting on " + p.DelistAt.Format(time.DateOnly),
		InfoURL:    p.InfoURL,
		SunsetDate: readOnlyAt(p),
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("sign-ups blocked (flag version %d)", ch.After.Version), nil
}

// readOnlyAt is when the read-only milestone falls, or zero.
func readOnlyAt(p Schedule) time.Time {
	m, _ := p.Milestone(StepReadOnly)
	return m.Due
}
