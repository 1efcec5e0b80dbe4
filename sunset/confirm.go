package sunset

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Confirm records that a step was done by hand, with evidence: the usual
// end of a manual step (awaiting confirmation), or a record that an
// automatic step was done outside the tool. It refuses a step that is
// already done or that a tick is running.
func (s *State) Confirm(ctx context.Context, step, evidence string) (StepStatus, error) {
	if evidence == "" {
		return StepStatus{}, errors.New("confirm: evidence is required (a link, ticket or note)")
	}
	p, statuses, err := s.Status(ctx)
	if err != nil {
		return StepStatus{}, err
	}
	var st StepStatus
	found := false
	for _, x := range statuses {
		if x.Step == step {
			st, found = x, true
		}
	}
	if !found {
		return StepStatus{}, fmt.Errorf("confirm: step %q is not in the schedule (steps: %s)", step, stepNames(p))
	}
	switch st.State {
	case StateDone:
		return st, fmt.Errorf("confirm %s: already done (by %s at %s)", step, st.Actor, st.At.Format(time.RFC3339))
	case StateRunning:
		return st, fmt.Errorf("confirm %s: a tick by %s is running it now; wait and check runbook status", step, st.Actor)
	}
	before := st
	n := st.Attempt
	if st.State != StateAwaiting {
		n++ // open a new attempt that exists only to hold the confirmation
	}
	now := s.now()
	after := st
	after.State, after.Attempt, after.Actor, after.At, after.Evidence, after.Error = StateDone, n, s.actor, now, evidence, ""
	if s.dry {
		return after, nil
	}
	if n != st.Attempt {
		if _, err := s.claimAttempt(ctx, step, n, "confirm", randomID(8)); err != nil {
			return st, s.stepConflict(step, err)
		}
	}
	c := confirmRec{Attempt: n, Evidence: evidence, Actor: s.actor, At: now}
	if err := createJSON(ctx, s.st, recordKey(step, n, recConfirm), c); err != nil {
		return st, s.stepConflict(step, err)
	}
	err = s.record(ctx, Event{Action: "runbook.confirm", Subject: step, Result: StateDone, Detail: evidence,
		Before: rawJSON(map[string]any{"state": before.State, "attempt": before.Attempt}),
		After:  rawJSON(map[string]any{"state": StateDone, "attempt": n, "evidence": evidence})})
	return after, err
}

func (s *State) stepConflict(step string, err error) error {
	if IsConflict(err) {
		return &ConflictError{What: "step " + step, Err: err}
	}
	return fmt.Errorf("confirm %s: %w", step, err)
}

func stepNames(p Schedule) string {
	out := ""
	for i, m := range p.Milestones {
		if i > 0 {
			out += ", "
		}
		out += m.Step
	}
	return out
}
