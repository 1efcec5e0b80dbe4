package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// RunsPrefix holds one report per run (per shard) in the destination.
const RunsPrefix = "_runs/"

// maxListed bounds the failures and warnings a report lists one by one, so
// a run over millions of bad lines still writes a readable report.
const maxListed = 10000

// Report is a run's _runs/<run_id>.json.
type Report struct {
	RunID           string     `json:"run_id"`
	ToolVersion     string     `json:"tool_version"`
	Source          string     `json:"source"`
	Dest            string     `json:"dest"`
	ShardIndex      int        `json:"shard_index"`
	ShardCount      int        `json:"shard_count"`
	Workers         int        `json:"workers"`
	StartedAt       time.Time  `json:"started_at"`
	FinishedAt      time.Time  `json:"finished_at"`
	DurationSeconds float64    `json:"duration_seconds"`
	Interrupted     bool       `json:"interrupted,omitempty"`
	Error           string     `json:"error,omitempty"`
	Users           UserCounts `json:"users"`
	Bytes           int64      `json:"bytes"`
	Failures        []Failure  `json:"failures"`
	Warnings        []Failure  `json:"warnings,omitempty"`
	// Omitted lists, per user exported in this run, what was left out of
	// their export and why (their manifest.json has the same list).
	Omitted []UserOmission `json:"omitted,omitempty"`
	// Duplicates are users.jsonl lines that repeat an id: the user was
	// exported once, from its first line.
	Duplicates []Failure `json:"duplicates,omitempty"`
	Truncated  bool      `json:"truncated,omitempty"` // more failures, warnings or omissions than listed

	mu sync.Mutex
}

// UserCounts counts users by outcome.
type UserCounts struct {
	Exported int `json:"exported"`
	Skipped  int `json:"skipped"`
	Failed   int `json:"failed"`
	// WithOmissions counts the exported users whose export leaves
	// something out (they are counted in Exported too).
	WithOmissions int `json:"with_omissions"`
	// Duplicates counts users.jsonl lines repeating an id seen before.
	Duplicates int `json:"duplicates"`
}

// UserOmission is one omission of one user, in a run report.
type UserOmission struct {
	User string `json:"user"`
	Omission
}

// Failure names a user (when known) and what went wrong.
type Failure struct {
	User   string `json:"user,omitempty"`
	Reason string `json:"reason"`
}

func newReport(o Options) *Report {
	return &Report{
		RunID: o.RunID, ToolVersion: o.ToolVersion, Source: o.SourceName, Dest: o.DestName,
		ShardIndex: o.ShardIndex, ShardCount: o.ShardCount, Workers: o.Workers,
		StartedAt: o.Now().UTC(), Failures: []Failure{},
	}
}

func (r *Report) add(o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch o.Status {
	case StatusExported:
		r.Users.Exported++
	case StatusSkipped:
		r.Users.Skipped++
	case StatusFailed:
		r.Users.Failed++
		r.Failures = r.list(r.Failures, Failure{User: o.User, Reason: o.Reason})
	case StatusDuplicate:
		r.Users.Duplicates++
		r.Duplicates = r.list(r.Duplicates, Failure{User: o.User, Reason: o.Reason})
	}
	if len(o.Omitted) > 0 {
		r.Users.WithOmissions++
	}
	for _, om := range o.Omitted {
		if len(r.Omitted) >= maxListed {
			r.Truncated = true
			break
		}
		r.Omitted = append(r.Omitted, UserOmission{User: o.User, Omission: om})
	}
	r.Bytes += o.Bytes
	for _, w := range o.Warnings {
		r.Warnings = r.list(r.Warnings, Failure{User: o.User, Reason: w})
	}
}

func (r *Report) list(l []Failure, f Failure) []Failure {
	if len(l) >= maxListed {
		r.Truncated = true
		return l
	}
	return append(l, f)
}

// Key is where the report is stored in the destination.
func (r *Report) Key() string { return RunsPrefix + r.RunID + ".json" }

// finish stamps the report, stores it and turns the outcome into Run's
// error. The report is written even when the run was interrupted, with a
// fresh context, since it is what the next run and ops read.
func (r *runner) finish(ctx context.Context, runErr error) (*Report, error) {
	rep := r.report
	rep.FinishedAt = r.opts.Now().UTC()
	rep.DurationSeconds = rep.FinishedAt.Sub(rep.StartedAt).Seconds()
	if runErr != nil {
		rep.Error = runErr.Error()
		rep.Interrupted = errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded)
	}
	body, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return rep, err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if _, err := r.dst.Put(wctx, rep.Key(), bytes.NewReader(append(body, '\n')),
		blob.PutOptions{ContentType: "application/json"}); err != nil && runErr == nil {
		runErr = fmt.Errorf("write run report %s: %w", rep.Key(), err)
	}
	r.opts.Log.Info("export finished", "run", rep.RunID, "exported", rep.Users.Exported,
		"skipped", rep.Users.Skipped, "failed", rep.Users.Failed, "with_omissions", rep.Users.WithOmissions,
		"duplicates", rep.Users.Duplicates, "bytes", rep.Bytes,
		"seconds", rep.DurationSeconds)
	switch {
	case runErr != nil:
		return rep, runErr
	case rep.Users.Failed > 0:
		total := rep.Users.Exported + rep.Users.Skipped + rep.Users.Failed
		return rep, &PartialError{Failed: rep.Users.Failed, Total: total, ReportKey: rep.Key()}
	}
	return rep, nil
}
