package notify

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// ReportPrefix holds one report per notify run in the destination, beside
// the export's own reports (which `status` reads; it skips this folder).
const ReportPrefix = export.RunsPrefix + "notify/"

// maxListed bounds the users a report lists by name (counts stay exact),
// so a source where most users have no email keeps the report small.
const maxListed = 100000

// Status is what happened to one user in a run.
type Status string

const (
	StatusSent        Status = "sent"         // mailed in this run
	StatusWouldSend   Status = "would-send"   // dry run: rendered, not sent
	StatusAlreadySent Status = "already-sent" // mailed before for this export
	StatusChanged     Status = "changed"      // mailed before, export changed since; not mailed again
	StatusUnknown     Status = "unknown"      // an earlier claim's outcome is unknown: check the mail log
	StatusRefused     Status = "refused"      // the server refused permanently (now or before)
	StatusFailed      Status = "failed"       // could not be mailed this time; the next run retries
	StatusNoEmail     Status = "no-email"     // users.jsonl has no email for the user
	StatusBadAddress  Status = "bad-address"  // the email is not one plain address
	StatusNotReady    Status = "not-ready"    // no completed export (no manifest.json)
	StatusBadLine     Status = "bad-line"     // a users.jsonl line that could not be read
	StatusBusy        Status = "busy"         // another run took the claim first
)

// Outcome is the result for one user. Reason never holds an address,
// a link or a token.
type Outcome struct {
	User   string `json:"user"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Report is a run's _runs/notify/<run_id>.json: counts per status and the
// users behind every status but sent and already-sent.
type Report struct {
	RunID      string         `json:"run_id"`
	DryRun     bool           `json:"dry_run,omitempty"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at"`
	Counts     map[Status]int `json:"counts"`
	Users      []Outcome      `json:"users"`               // every user not mailed, with why
	Sent       []string       `json:"sent"`                // user ids mailed in this run
	Truncated  bool           `json:"truncated,omitempty"` // more users than listed
	Error      string         `json:"error,omitempty"`

	mu sync.Mutex
}

// Key is where the report is stored in the destination.
func (r *Report) Key() string { return ReportPrefix + r.RunID + ".json" }

// Count returns how many users ended with status s.
func (r *Report) Count(s Status) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Counts[s]
}

// Failed is how many users a rerun or an operator must look at.
func (r *Report) Failed() int {
	return r.Count(StatusFailed) + r.Count(StatusRefused) + r.Count(StatusUnknown) + r.Count(StatusBadAddress)
}

func (r *Report) add(o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Counts[o.Status]++
	switch {
	case o.Status == StatusAlreadySent:
	case len(r.Sent)+len(r.Users) >= maxListed:
		r.Truncated = true
	case o.Status == StatusSent || o.Status == StatusWouldSend:
		r.Sent = append(r.Sent, o.User)
	default:
		r.Users = append(r.Users, o)
	}
}

func (r *Report) finish(now time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.FinishedAt = now.UTC()
	if err != nil {
		r.Error = err.Error()
	}
	sort.Strings(r.Sent)
	sort.Slice(r.Users, func(i, j int) bool { return r.Users[i].User < r.Users[j].User })
}

func (r *Report) store(ctx context.Context, dst blob.Store) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := blob.PutJSON(ctx, dst, r.Key(), r, blob.PutOptions{IfNoneMatch: true}); err != nil {
		return fmt.Errorf("write report %s: %w", r.Key(), err)
	}
	return nil
}
