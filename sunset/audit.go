package sunset

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

const auditPrefix = "audit/"

// Event is one audited change: who did what, when, and the state before
// and after. Events never carry secrets: callers put identifiers and
// outcomes in them, never keys, tokens or credentials.
type Event struct {
	ID      string          `json:"id"`
	Time    time.Time       `json:"time"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`            // signups.block, runbook.step, ...
	Subject string          `json:"subject,omitempty"` // the step, endpoint or document
	Result  string          `json:"result,omitempty"`  // ok, failed, done, awaiting-confirmation, ...
	Detail  string          `json:"detail,omitempty"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
}

// record appends one event to the audit log as its own object, so
// concurrent writers never lose each other's events. In a dry run it
// stores nothing.
func (s *State) record(ctx context.Context, e Event) error {
	if s.dry {
		return nil
	}
	e.Time = s.now()
	e.Actor = s.actor
	// The key sorts in time order: fixed-width UTC time, then randomness
	// so that two events in the same nanosecond both land.
	e.ID = e.Time.Format("20060102T150405.000000000Z") + "-" + randomID(6)
	if err := createJSON(ctx, s.st, auditPrefix+e.ID+".json", e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// Record appends an event from outside the package's own operations.
func (s *State) Record(ctx context.Context, e Event) error { return s.record(ctx, e) }

// Audit returns every audited event in time order.
func (s *State) Audit(ctx context.Context) ([]Event, error) {
	var keys []string
	err := s.st.List(ctx, auditPrefix, func(info blob.Info) error {
		if strings.HasSuffix(info.Key, ".json") {
			keys = append(keys, info.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list audit log in %s: %w", s.st, err)
	}
	events := make([]Event, 0, len(keys))
	for _, k := range keys {
		var e Event
		if err := readJSON(ctx, s.st, k, &e); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		events = append(events, e)
	}
	slices.SortStableFunc(events, func(a, b Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return events, nil
}

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func rawJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil
	}
	return b
}

// AuditAfter calls fn for each event whose id sorts after the id after
// ("" for every event), in id (time) order, and reads only those: a watcher
// that keeps the last id it saw reads each event once, however long the log.
func (s *State) AuditAfter(ctx context.Context, after string, fn func(Event) error) error {
	var keys []string
	err := s.st.List(ctx, auditPrefix, func(info blob.Info) error {
		id, ok := strings.CutSuffix(strings.TrimPrefix(info.Key, auditPrefix), ".json")
		if ok && id > after {
			keys = append(keys, info.Key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list audit log in %s: %w", s.st, err)
	}
	for _, k := range keys {
		var e Event
		if err := readJSON(ctx, s.st, k, &e); err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
