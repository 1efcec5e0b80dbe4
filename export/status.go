package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// StatusReport is the progress of an export across every shard, read from the
// destination alone (and the source's users.jsonl when given).
type StatusReport struct {
	Done    int   `json:"done"`
	Failed  int   `json:"failed"`            // failed in their shard's latest run, not done since
	Pending int   `json:"pending,omitempty"` // known only with the source: neither done nor failed
	Total   int   `json:"total,omitempty"`   // users in users.jsonl, when the source was read
	Bytes   int64 `json:"bytes"`             // bytes of finished exports
	// InFlight counts users whose parts exist without a manifest: being
	// written now, or left by a killed run (a rerun redoes them).
	InFlight int `json:"in_flight"`
	// WithOmissions counts done users whose export leaves something out
	// (counted in Done too), as their manifests say; Omitted lists what.
	WithOmissions int            `json:"with_omissions"`
	Omitted       []UserOmission `json:"omitted,omitempty"`
	// Duplicates counts users.jsonl lines repeating an id, in each
	// shard's latest run.
	Duplicates int           `json:"duplicates"`
	Failures   []Failure     `json:"failures"`
	Shards     []ShardStatus `json:"shards"`
	Runs       int           `json:"runs"`

	done    map[string]bool
	omitted map[string]bool // users some run report says it exported with omissions
}

// ShardStatus is one shard's latest run and, with the source, its users.
type ShardStatus struct {
	Index       int     `json:"index"`
	Count       int     `json:"count"`
	Users       int     `json:"users,omitempty"` // in this shard, when the source was read
	Done        int     `json:"done"`
	LastRun     string  `json:"last_run,omitempty"`
	LastRunEnd  string  `json:"last_run_finished_at,omitempty"`
	Interrupted bool    `json:"interrupted,omitempty"`
	Failed      int     `json:"failed"`
	Seconds     float64 `json:"seconds,omitempty"`
}

// ReadStatus lists dst once (manifests, parts and run reports) and, when
// src is not nil, streams its users.jsonl to count what is still pending.
func ReadStatus(ctx context.Context, dst, src blob.Store) (*StatusReport, error) {
	st := &StatusReport{Failures: []Failure{}, done: map[string]bool{}, omitted: map[string]bool{}}
	parts := map[string]int64{} // bytes of zip parts per user
	var reports []string
	err := dst.List(ctx, "", func(info blob.Info) error {
		uid, rest, _ := strings.Cut(info.Key, "/")
		switch {
		case uid+"/" == RunsPrefix:
			// Nested reports (_runs/notify/, _runs/purge/) belong to other
			// commands; dotfiles are not reports.
			if isReportName(rest) {
				reports = append(reports, info.Key)
			}
		case !ValidID(uid):
			// The tool's own files (_runs, claims) and stray objects are
			// never users.
		case rest == ManifestName:
			st.done[uid] = true
		case strings.HasPrefix(rest, "periscope-") && strings.HasSuffix(rest, ".zip"):
			parts[uid] += info.Size
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dst, err)
	}
	st.Done = len(st.done)
	for uid, n := range parts {
		if st.done[uid] {
			st.Bytes += n
		} else {
			st.InFlight++
		}
	}
	if err := st.readReports(ctx, dst, reports); err != nil {
		return nil, err
	}
	if err := st.readOmissions(ctx, dst); err != nil {
		return nil, err
	}
	if src != nil {
		if err := st.countSource(ctx, src); err != nil {
			return nil, err
		}
	}
	sort.Slice(st.Shards, func(i, j int) bool { return st.Shards[i].Index < st.Shards[j].Index })
	return st, nil
}

// readReports keeps the latest report of each shard (run ids sort by time)
// and takes its failures for users that are still not done.
func (st *StatusReport) readReports(ctx context.Context, dst blob.Store, keys []string) error {
	sort.Strings(keys)
	latest := map[[2]int]*Report{}
	for _, key := range keys {
		rep, err := readReport(ctx, dst, key)
		if err != nil {
			return err
		}
		if rep.RunID == "" {
			continue // JSON, but not a run report
		}
		for _, o := range rep.Omitted {
			st.omitted[o.User] = true
		}
		st.Runs++
		latest[[2]int{rep.ShardIndex, rep.ShardCount}] = rep
	}
	seen := map[string]bool{}
	for k, rep := range latest {
		sh := ShardStatus{Index: k[0], Count: k[1], LastRun: rep.RunID, Interrupted: rep.Interrupted,
			LastRunEnd: rep.FinishedAt.Format("2006-01-02T15:04:05Z"), Seconds: rep.DurationSeconds}
		for _, f := range rep.Failures {
			if f.User != "" && !st.done[f.User] && !seen[f.User] {
				seen[f.User] = true
				st.Failures = append(st.Failures, f)
				sh.Failed++
			} else if f.User == "" {
				st.Failures = append(st.Failures, f)
			}
		}
		for uid := range st.done {
			if ShardOf(uid, k[1]) == k[0] {
				sh.Done++
			}
		}
		st.Shards = append(st.Shards, sh)
		st.Duplicates += rep.Users.Duplicates
	}
	st.Failed = len(seen)
	sort.Slice(st.Failures, func(i, j int) bool { return st.Failures[i].User < st.Failures[j].User })
	return nil
}

// readOmissions counts the done users with omissions. Only the users a run
// report says were exported with omissions have their manifest read (it is
// the manifest that says whether a later run exported them whole), so
// status stays one listing for an archive without omissions.
func (st *StatusReport) readOmissions(ctx context.Context, dst blob.Store) error {
	users := make([]string, 0, len(st.omitted))
	for uid := range st.omitted {
		if st.done[uid] {
			users = append(users, uid)
		}
	}
	sort.Strings(users)
	for _, uid := range users {
		m, err := ReadManifest(ctx, dst, uid)
		if isNotExist(err) {
			continue // removed since the listing
		}
		if err != nil {
			return err
		}
		if len(m.Omitted) == 0 {
			continue
		}
		st.WithOmissions++
		for _, o := range m.Omitted {
			if len(st.Omitted) < maxListed {
				st.Omitted = append(st.Omitted, UserOmission{User: uid, Omission: o})
			}
		}
	}
	return nil
}

// isReportName tells a run report (<run_id>.json right under _runs/) from
// anything else left there.
func isReportName(name string) bool {
	return strings.HasSuffix(name, ".json") && !strings.Contains(name, "/") && !strings.HasPrefix(name, ".")
}

func readReport(ctx context.Context, dst blob.Store, key string) (*Report, error) {
	rc, err := dst.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	var rep Report
	if err := json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&rep); err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return &rep, nil
}

// countSource counts the users of users.jsonl, per shard of each shard
// layout seen in the reports.
func (st *StatusReport) countSource(ctx context.Context, src blob.Store) error {
	rc, err := src.Get(ctx, UsersKey)
	if err != nil {
		return fmt.Errorf("source %s: open %s: %w", src, UsersKey, err)
	}
	defer rc.Close()
	seen := map[string]bool{}
	err = ReadUsers(ctx, rc, func(u User, err error) error {
		if err != nil || seen[u.ID] {
			return nil
		}
		seen[u.ID] = true
		st.Total++
		for i := range st.Shards {
			if ShardOf(u.ID, st.Shards[i].Count) == st.Shards[i].Index {
				st.Shards[i].Users++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	st.Pending = max(st.Total-st.Done-st.Failed, 0)
	return nil
}
