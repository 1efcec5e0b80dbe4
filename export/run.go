package export

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// PartialError ends a run in which some users failed while the others
// finished. The run report names each failed user and why.
type PartialError struct {
	Failed, Total int
	ReportKey     string
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d of %d users failed; see %s", e.Failed, e.Total, e.ReportKey)
}

// ShardOf assigns a user to one of count shards by a stable hash (FNV-1a,
// 64 bit) of its id, so every process of an array job agrees without
// talking to the others.
func ShardOf(id string, count int) int {
	if count <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return int(h.Sum64() % uint64(count))
}

// NewRunID names a run: UTC time, shard and a random suffix, so reports of
// concurrent shards never collide and sort by time.
func NewRunID(now time.Time, shard, count int) string {
	var b [3]byte
	rand.Read(b[:])
	id := now.UTC().Format("20060102T150405Z")
	if count > 1 {
		id += fmt.Sprintf("-shard%d-of-%d", shard, count)
	}
	return id + "-" + hex.EncodeToString(b[:])
}

// Run exports every user of src's users.jsonl that belongs to this shard
// into dst. It returns the run report (also written to dst), and an error:
// a *PartialError when some users failed, another error when the run could
// not proceed at all.
func Run(ctx context.Context, src, dst blob.Store, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if opts.ShardIndex < 0 || opts.ShardIndex >= opts.ShardCount {
		return nil, fmt.Errorf("shard index %d out of range for %d shards", opts.ShardIndex, opts.ShardCount)
	}
	r := &runner{src: src, dst: dst, opts: opts, report: newReport(opts),
		remux: remuxer{ffmpeg: opts.FFmpeg, mode: opts.Remux}}
	if opts.Remux == RemuxRequire && opts.FFmpeg == "" {
		return nil, errors.New("remux required but no ffmpeg given")
	}
	closeTemps, err := r.remux.openTemps()
	if err != nil {
		return nil, err
	}
	defer closeTemps()
	total, err := r.countUsers(ctx)
	if err != nil {
		return nil, err
	}
	opts.Progress.Start(total)
	opts.Log.Info("export started", "run", opts.RunID, "users", total, "workers", opts.Workers,
		"shard", opts.ShardIndex, "shards", opts.ShardCount)
	runErr := r.exportAll(ctx)
	return r.finish(ctx, runErr)
}

type runner struct {
	src, dst blob.Store
	opts     Options
	report   *Report
	remux    remuxer

	doneMu    sync.Mutex // orders outcomes against abandoning the users in flight
	abandoned bool
}

func (r *runner) mine(id string) bool {
	if r.opts.Only != nil && !r.opts.Only[id] {
		return false
	}
	return ShardOf(id, r.opts.ShardCount) == r.opts.ShardIndex
}

func (r *runner) countUsers(ctx context.Context) (int, error) {
	rc, err := r.src.Get(ctx, UsersKey)
	if err != nil {
		return 0, fmt.Errorf("source %s: open %s: %w", r.src, UsersKey, err)
	}
	defer rc.Close()
	n := 0
	err = ReadUsers(ctx, rc, func(u User, err error) error {
		if err != nil && r.ownsLine(err) || err == nil && r.mine(u.ID) {
			n++
		}
		return nil
	})
	return n, err
}

// exportAll streams users.jsonl into a bounded pool of workers. Per-user
// failures are recorded, never returned, so they cannot cancel the group.
//
// Stopping is graceful: when ctx is cancelled (SIGTERM on a Spot reclaim)
// no new user starts, and the users in flight get DrainTimeout to finish
// before their work context is cancelled and their uploads aborted. Users
// still not back abandonAfter later are left behind, so the run report is
// written whatever they are stuck in.
func (r *runner) exportAll(ctx context.Context) error {
	rc, err := r.src.Get(ctx, UsersKey)
	if err != nil {
		return fmt.Errorf("source %s: open %s: %w", r.src, UsersKey, err)
	}
	defer rc.Close()
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	stopDrain := context.AfterFunc(ctx, func() {
		r.opts.Log.Warn("stopping: no new users; waiting for users in flight", "drain_timeout", r.opts.DrainTimeout)
		time.AfterFunc(r.opts.DrainTimeout, stopWork)
	})
	defer stopDrain()
	done := make(chan error, 1)
	go func() { done <- r.feed(ctx, rc, work) }()
	select {
	case err := <-done:
		return err
	case <-afterDone(work, abandonAfter):
	}
	r.doneMu.Lock()
	r.abandoned = true // from now on no outcome reaches the report or progress
	r.doneMu.Unlock()
	r.opts.Log.Warn("users in flight did not stop after the drain; abandoned", "after", abandonAfter)
	return fmt.Errorf("%w: users still in flight %v after the drain were abandoned", context.Canceled, abandonAfter)
}

// abandonAfter is how long users may take to return once the drain is over
// and their work cancelled. Only I/O no context interrupts (a read of a
// hung NFS mount) outlasts it. Commands give a run 10 s past its drain.
const abandonAfter = 3 * time.Second

// afterDone is closed d after ctx is done.
func afterDone(ctx context.Context, d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	context.AfterFunc(ctx, func() { time.AfterFunc(d, func() { close(ch) }) })
	return ch
}

// feed reads users.jsonl into a pool of workers running under work, and
// waits for them.
func (r *runner) feed(ctx context.Context, rc io.Reader, work context.Context) error {
	g, gctx := errgroup.WithContext(work)
	g.SetLimit(r.opts.Workers)
	seen := idSet{} // only this goroutine touches it
	err := ReadUsers(ctx, rc, func(u User, lerr error) error {
		if lerr != nil {
			if r.ownsLine(lerr) {
				r.done(lineOutcome(lerr))
			}
			return nil
		}
		if !r.mine(u.ID) {
			return nil
		}
		if seen.has(u.ID) {
			r.done(Outcome{User: u.ID, Status: StatusDuplicate,
				Reason: fmt.Sprintf("%s line %d: duplicate user id; exported once, from its first line", UsersKey, u.Line)})
			return nil
		}
		seen.add(u.ID)
		g.Go(func() error {
			if b, ok := r.opts.Progress.(Beginner); ok {
				b.Begin(u.ID)
			}
			r.done(r.exportUser(gctx, u))
			return nil
		})
		return nil
	})
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err == nil {
		err = ctx.Err() // stopped after the last user was read: still an interrupted run
	}
	return err
}

// ownsLine tells whether this shard reports a users.jsonl line that could
// not be used, so that each is reported by exactly one shard: the shard of
// its id when one was read, else of its line number.
func (r *runner) ownsLine(err error) bool {
	var le *LineError
	if !errors.As(err, &le) {
		return r.opts.ShardIndex == 0
	}
	if le.ID != "" {
		return (r.opts.Only == nil || r.opts.Only[le.ID]) && ShardOf(le.ID, r.opts.ShardCount) == r.opts.ShardIndex
	}
	return r.opts.Only == nil && ShardOf(fmt.Sprintf("line %d", le.Line), r.opts.ShardCount) == r.opts.ShardIndex
}

func lineOutcome(err error) Outcome {
	var le *LineError
	if errors.As(err, &le) && le.ID != "" {
		return Outcome{User: le.ID, Status: StatusFailed, Reason: le.Error()}
	}
	return Outcome{Status: StatusFailed, Reason: err.Error()}
}

func (r *runner) done(o Outcome) {
	r.doneMu.Lock()
	defer r.doneMu.Unlock()
	if r.abandoned {
		return
	}
	r.report.add(o)
	r.opts.Progress.Done(o)
	switch o.Status {
	case StatusFailed:
		r.opts.Log.Warn("user failed", "user", o.User, "reason", o.Reason)
	case StatusDuplicate:
		r.opts.Log.Warn("duplicate user", "user", o.User, "reason", o.Reason)
	default:
		r.opts.Log.Debug("user "+string(o.Status), "user", o.User, "bytes", o.Bytes)
	}
	for _, w := range o.Warnings {
		r.opts.Log.Warn("user warning", "user", o.User, "warning", w)
	}
	for _, om := range o.Omitted {
		r.opts.Log.Warn("omitted from the export", "user", o.User, "broadcast", om.Broadcast, "path", om.Path,
			"reason", om.Reason)
	}
}

// idSet remembers the user ids a run has seen, to report duplicates. It
// keeps 128 bits of each id's SHA-256 rather than the id (about 36 bytes
// of heap per user, against some 125 for the strings), and a collision,
// which would wrongly call a user a duplicate, has odds of about 1 in 10^24
// at 10^7 users.
type idSet map[[16]byte]struct{}

func (s idSet) key(id string) [16]byte {
	sum := sha256.Sum256([]byte(id))
	return [16]byte(sum[:16])
}

func (s idSet) has(id string) bool { _, ok := s[s.key(id)]; return ok }
func (s idSet) add(id string)      { s[s.key(id)] = struct{}{} }
