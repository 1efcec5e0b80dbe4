package purge

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// ReportPrefix holds one report per purge run, beside the export's reports
// (which `status` reads; it skips this folder).
const ReportPrefix = export.RunsPrefix + "purge/"

// maxLeft bounds the keys listed as left alone, so a destination full of
// foreign objects cannot make the report huge.
const maxLeft = 1000

// UserResult is what was deleted (or would be) for one user.
type UserResult struct {
	User           string `json:"user"`
	Objects        int    `json:"objects"`
	Bytes          int64  `json:"bytes"`
	AbortedUploads int    `json:"aborted_uploads,omitempty"`
	Error          string `json:"error,omitempty"`
}

// Report is a purge run's _runs/purge/<run_id>.json.
type Report struct {
	RunID      string       `json:"run_id"`
	DryRun     bool         `json:"dry_run,omitempty"`
	Only       []string     `json:"only_users,omitempty"` // --user, when given
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt time.Time    `json:"finished_at"`
	Objects    int          `json:"objects"`
	Bytes      int64        `json:"bytes"`
	Failed     int          `json:"failed"`
	Users      []UserResult `json:"users"`
	Left       []string     `json:"left_alone,omitempty"` // keys outside any user folder
	Error      string       `json:"error,omitempty"`

	mu sync.Mutex
}

func newReport(o Options) *Report {
	return &Report{RunID: o.RunID, DryRun: o.DryRun, Only: o.Users, StartedAt: o.Now().UTC(), Users: []UserResult{}}
}

// Key is where the report is stored in the destination.
func (r *Report) Key() string { return ReportPrefix + r.RunID + ".json" }

func (r *Report) add(u UserResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Users = append(r.Users, u)
	r.Objects += u.Objects
	r.Bytes += u.Bytes
	if u.Error != "" {
		r.Failed++
	}
}

func (r *Report) leave(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.Left) < maxLeft {
		r.Left = append(r.Left, key)
	}
}

func (r *Report) finish(now time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.FinishedAt = now.UTC()
	if err != nil {
		r.Error = err.Error()
	}
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
