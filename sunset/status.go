package sunset

import (
	"context"
	"time"
)

// Step states as `runbook status` shows them.
const (
	StatePending  = "pending"               // not due yet
	StateDue      = "due"                   // due; the next tick runs it
	StateRunning  = "running"               // a tick holds its claim now
	StateDone     = "done"                  // finished (or confirmed)
	StateAwaiting = "awaiting confirmation" // manual step opened; waits for `runbook confirm`
	StateFailed   = "failed"                // last attempt failed; the next tick retries it
)

// StepStatus is one row of the runbook.
type StepStatus struct {
	Step     string    `json:"step"`
	Title    string    `json:"title"`
	Kind     string    `json:"kind"`
	Due      time.Time `json:"due"`
	State    string    `json:"state"`
	Attempt  int       `json:"attempt,omitempty"`
	Actor    string    `json:"actor,omitempty"`
	At       time.Time `json:"at,omitzero"` // when the step reached its state
	Evidence string    `json:"evidence,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Status returns the schedule and the state of each of its steps.
func (s *State) Status(ctx context.Context) (Schedule, []StepStatus, error) {
	p, err := s.LoadSchedule(ctx)
	if err != nil {
		return Schedule{}, nil, err
	}
	recs, err := s.loadRecords(ctx)
	if err != nil {
		return p, nil, err
	}
	now := s.now()
	out := make([]StepStatus, 0, len(p.Milestones))
	for _, m := range p.Milestones {
		out = append(out, stepStatus(m, recs[m.Step], now))
	}
	return p, out, nil
}

func stepStatus(m Milestone, r *stepRecords, now time.Time) StepStatus {
	st := StepStatus{Step: m.Step, Title: m.Title, Kind: m.Kind, Due: m.Due}
	switch {
	case r == nil || r.attempt == 0:
		st.State = StatePending
		if !now.Before(m.Due) {
			st.State = StateDue
		}
		return st
	case r.confirm != nil:
		st.State, st.Actor, st.At, st.Evidence = StateDone, r.confirm.Actor, r.confirm.At, r.confirm.Evidence
	case r.result != nil:
		st.Actor, st.At, st.Evidence, st.Error = r.result.Actor, r.result.At, r.result.Evidence, r.result.Error
		st.State = r.result.Outcome
	case r.claim != nil && now.Before(r.claim.LeaseUntil):
		st.State, st.Actor, st.At = StateRunning, r.claim.Actor, r.claim.ClaimedAt
	case r.claim != nil:
		st.State, st.Actor, st.At = StateFailed, r.claim.Actor, r.claim.ClaimedAt
		st.Error = "the tick that claimed this step stopped before it finished (its lease ran out)"
	default:
		// A result or confirmation without its claim cannot be written by
		// this package; treat the step as never attempted.
		st.State = StateDue
	}
	st.Attempt = r.attempt
	return st
}
