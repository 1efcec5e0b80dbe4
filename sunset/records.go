package sunset

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

const stepsPrefix = "runbook/steps/"

// Each attempt at a step is up to three create-only objects: the claim a
// tick (or a confirm) takes before it acts, the result it writes when the
// step ends, and for a manual step the operator's confirmation.
const (
	recClaim   = "claim"
	recResult  = "result"
	recConfirm = "confirm"
)

type claimRec struct {
	Attempt    int       `json:"attempt"`
	Purpose    string    `json:"purpose"` // run or confirm
	Tick       string    `json:"tick"`    // random id of the claiming process
	Actor      string    `json:"actor"`
	ClaimedAt  time.Time `json:"claimed_at"`
	LeaseUntil time.Time `json:"lease_until"`
}

type resultRec struct {
	Attempt  int       `json:"attempt"`
	Outcome  string    `json:"outcome"` // done, failed or awaiting confirmation
	Evidence string    `json:"evidence,omitempty"`
	Error    string    `json:"error,omitempty"`
	Actor    string    `json:"actor"`
	At       time.Time `json:"at"`
}

type confirmRec struct {
	Attempt  int       `json:"attempt"`
	Evidence string    `json:"evidence"`
	Actor    string    `json:"actor"`
	At       time.Time `json:"at"`
}

// stepRecords is the latest attempt at one step.
type stepRecords struct {
	attempt int // 0: never attempted
	claim   *claimRec
	result  *resultRec
	confirm *confirmRec
}

func recordKey(step string, attempt int, kind string) string {
	return fmt.Sprintf("%s%s/%04d-%s.json", stepsPrefix, step, attempt, kind)
}

// loadRecords reads the latest attempt of every step with one listing.
func (s *State) loadRecords(ctx context.Context) (map[string]*stepRecords, error) {
	recs := map[string]*stepRecords{}
	present := map[string]bool{}
	err := s.st.List(ctx, stepsPrefix, func(info blob.Info) error {
		step, attempt, kind, ok := parseRecordKey(info.Key)
		if !ok {
			return nil
		}
		r := recs[step]
		if r == nil {
			r = &stepRecords{}
			recs[step] = r
		}
		r.attempt = max(r.attempt, attempt)
		present[recordKey(step, attempt, kind)] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read runbook steps from %s: %w", s.st, err)
	}
	for step, r := range recs {
		if err := s.readAttempt(ctx, step, r, present); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

func (s *State) readAttempt(ctx context.Context, step string, r *stepRecords, present map[string]bool) error {
	read := func(kind string, v any) (bool, error) {
		key := recordKey(step, r.attempt, kind)
		if !present[key] {
			return false, nil
		}
		if err := readJSON(ctx, s.st, key, v); err != nil {
			return false, fmt.Errorf("step %s: %w", step, err)
		}
		return true, nil
	}
	var c claimRec
	var res resultRec
	var conf confirmRec
	if ok, err := read(recClaim, &c); err != nil {
		return err
	} else if ok {
		r.claim = &c
	}
	if ok, err := read(recResult, &res); err != nil {
		return err
	} else if ok {
		r.result = &res
	}
	if ok, err := read(recConfirm, &conf); err != nil {
		return err
	} else if ok {
		r.confirm = &conf
	}
	return nil
}

// parseRecordKey splits runbook/steps/<step>/<NNNN>-<kind>.json.
func parseRecordKey(key string) (step string, attempt int, kind string, ok bool) {
	rest, ok := strings.CutPrefix(key, stepsPrefix)
	if !ok {
		return "", 0, "", false
	}
	step, name, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(name, "/") {
		return "", 0, "", false
	}
	name, ok = strings.CutSuffix(name, ".json")
	num, kind, ok2 := strings.Cut(name, "-")
	n, err := strconv.Atoi(num)
	if !ok || !ok2 || err != nil || n < 1 {
		return "", 0, "", false
	}
	switch kind {
	case recClaim, recResult, recConfirm:
		return step, n, kind, true
	}
	return "", 0, "", false
}

// claimAttempt takes attempt n of step for this process. It fails with a
// wrapped blob.ErrPrecondition when another process took it first.
func (s *State) claimAttempt(ctx context.Context, step string, n int, purpose, tick string) (claimRec, error) {
	now := s.now()
	c := claimRec{Attempt: n, Purpose: purpose, Tick: tick, Actor: s.actor, ClaimedAt: now, LeaseUntil: now.Add(s.lease)}
	return c, createJSON(ctx, s.st, recordKey(step, n, recClaim), c)
}
