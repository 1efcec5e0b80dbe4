package dashboard

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/notify"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

// DefaultInterval is the least time between two background reads.
const DefaultInterval = 60 * time.Second

// Options say what the dashboard reads. The zero value of each optional
// field means its default.
type Options struct {
	Dest   blob.Store    // the export destination (required)
	Source blob.Store    // the source, to count pending users (optional)
	State  *sunset.State // the runbook state (optional)
	// Interval is the least time between two reads of the stores
	// (default DefaultInterval).
	Interval time.Duration
	Now      func() time.Time
	Log      *slog.Logger
}

// Collector reads the stores and keeps the latest Snapshot.
type Collector struct {
	o Options

	mu   sync.Mutex
	snap *Snapshot
	err  error

	// Only Refresh touches these; it is never run twice at once.
	refresh   sync.Mutex
	reports   map[string]runPoint     // export run reports by key: immutable once written
	notifies  map[string]notifyCounts // notify reports by key
	auditLast string                  // the last audit event id read
	downloads int
	verify    *sunset.Event
}

type runPoint struct {
	finished time.Time
	started  time.Time
	exported int
}

type notifyCounts struct {
	finished     time.Time
	sent, failed int
}

// NewCollector returns a collector; call Refresh or Run to fill it.
func NewCollector(o Options) *Collector {
	o.Interval = cmp.Or(max(o.Interval, 0), DefaultInterval)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Collector{o: o, reports: map[string]runPoint{}, notifies: map[string]notifyCounts{}}
}

// Snapshot returns the latest read (nil before the first one finished)
// and the error of the latest attempt, if it failed.
func (c *Collector) Snapshot() (*Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap, c.err
}

// Run refreshes now and then every Interval until ctx ends. A failed read
// keeps the previous snapshot and is shown on the page.
func (c *Collector) Run(ctx context.Context) {
	t := time.NewTicker(c.o.Interval)
	defer t.Stop()
	for {
		if _, err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			c.o.Log.Warn("dashboard read failed; showing the previous one", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh reads the stores once and replaces the snapshot.
func (c *Collector) Refresh(ctx context.Context) (*Snapshot, error) {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	start := c.o.Now()
	s, err := c.read(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	if err != nil {
		return nil, err
	}
	s.ReadAt, s.ReadSeconds = start.UTC(), c.o.Now().Sub(start).Seconds()
	c.snap = s
	return s, nil
}

func (c *Collector) read(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{}
	st, err := export.ReadStatus(ctx, c.o.Dest, c.o.Source)
	if err != nil {
		return nil, fmt.Errorf("dashboard: export status: %w", err)
	}
	s.Export = st
	s.Groups = groupFailures(st.Failures, 5)
	if err := c.readRuns(ctx); err != nil {
		return nil, err
	}
	s.Chart, s.Rate = c.chart(st.Done, c.o.Now())
	if st.Pending > 0 && s.Rate > 0 {
		s.ETA = c.o.Now().Add(time.Duration(float64(st.Pending) / s.Rate * float64(time.Hour))).UTC()
	}
	if err := c.readNotify(ctx, s); err != nil {
		return nil, err
	}
	if c.o.State != nil {
		if err := c.readState(ctx, s); err != nil {
			s.StateError = err.Error()
		}
	}
	return s, nil
}

// readRuns reads the run reports it has not read before.
func (c *Collector) readRuns(ctx context.Context) error {
	return c.newJSON(ctx, export.RunsPrefix, c.hasReport, func(key string, r io.Reader) error {
		var rep export.Report
		if err := json.NewDecoder(r).Decode(&rep); err != nil {
			return err
		}
		c.reports[key] = runPoint{finished: rep.FinishedAt, started: rep.StartedAt, exported: rep.Users.Exported}
		return nil
	})
}

func (c *Collector) hasReport(key string) bool {
	_, ok := c.reports[key]
	rest := strings.TrimPrefix(key, export.RunsPrefix)
	return ok || strings.Contains(rest, "/") // nested: notify, purge
}

func (c *Collector) readNotify(ctx context.Context, s *Snapshot) error {
	err := c.newJSON(ctx, notify.ReportPrefix, func(k string) bool { _, ok := c.notifies[k]; return ok },
		func(key string, r io.Reader) error {
			var rep notify.Report
			if err := json.NewDecoder(r).Decode(&rep); err != nil {
				return err
			}
			n := notifyCounts{finished: rep.FinishedAt}
			if !rep.DryRun {
				n.sent, n.failed = rep.Counts[notify.StatusSent], rep.Failed()
			}
			c.notifies[key] = n
			return nil
		})
	if err != nil {
		return err
	}
	var last notifyCounts
	for _, n := range c.notifies {
		s.NotifySent += n.sent
		if !n.finished.Before(last.finished) {
			last = n
		}
	}
	s.NotifyRuns, s.NotifyFail = len(c.notifies), last.failed
	return nil
}

// newJSON lists prefix and decodes each .json object that known says
// was not read yet.
func (c *Collector) newJSON(ctx context.Context, prefix string, known func(string) bool, decode func(string, io.Reader) error) error {
	var keys []string
	err := c.o.Dest.List(ctx, prefix, func(info blob.Info) error {
		if strings.HasSuffix(info.Key, ".json") && !known(info.Key) {
			keys = append(keys, info.Key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("dashboard: list %s in %s: %w", prefix, c.o.Dest, err)
	}
	for _, k := range keys {
		rc, err := c.o.Dest.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("dashboard: read %s: %w", k, err)
		}
		err = decode(k, io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return fmt.Errorf("dashboard: read %s: %w", k, err)
		}
	}
	return nil
}

// chart is the users exported, cumulated over the runs in the order they
// finished, ending at done now; rate is users per hour over the last day
// of it.
func (c *Collector) chart(done int, now time.Time) ([]Point, float64) {
	runs := make([]runPoint, 0, len(c.reports))
	for _, r := range c.reports {
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].finished.Before(runs[j].finished) })
	var pts []Point
	total := 0
	if len(runs) > 0 {
		pts = append(pts, Point{At: runs[0].started, Users: 0})
	}
	for _, r := range runs {
		total += r.exported
		pts = append(pts, Point{At: r.finished, Users: total})
	}
	if len(pts) == 0 || done > total {
		pts = append(pts, Point{At: now.UTC(), Users: max(done, total)})
	}
	return pts, rate(pts)
}

// rate is users per hour between the first point of the last day and the
// last point.
func rate(pts []Point) float64 {
	if len(pts) < 2 {
		return 0
	}
	last := pts[len(pts)-1]
	first := pts[0]
	for _, p := range pts {
		if last.At.Sub(p.At) <= 24*time.Hour {
			first = p
			break
		}
	}
	h := last.At.Sub(first.At).Hours()
	if h <= 0 {
		return 0
	}
	return float64(last.Users-first.Users) / h
}

// readState reads the flag, the runbook and the new audit events; each
// part is shown even when another cannot be read (no schedule yet).
func (c *Collector) readState(ctx context.Context, s *Snapshot) error {
	st := c.o.State
	var errs []error
	var err error
	if s.Signups, err = st.Flag(ctx); err != nil {
		errs = append(errs, err)
	}
	if s.Schedule, s.Steps, err = st.Status(ctx); err != nil {
		errs = append(errs, err)
	}
	s.NextAction = nextAction(s.Steps)
	err = st.AuditAfter(ctx, c.auditLast, func(e sunset.Event) error {
		c.auditLast = e.ID
		switch e.Action {
		case "portal.download":
			c.downloads++
		case "signups.verify":
			c.verify = &e
		}
		return nil
	})
	s.Downloads, s.LastVerify = c.downloads, c.verify
	return errors.Join(append(errs, err)...)
}

// nextAction says what ops should do next, from the first step not done.
func nextAction(steps []sunset.StepStatus) string {
	for _, st := range steps {
		switch st.State {
		case sunset.StateDone:
			continue
		case sunset.StateAwaiting:
			return fmt.Sprintf("confirm %s: periscope-sunset runbook confirm %s --evidence TEXT", st.Title, st.Step)
		case sunset.StateFailed:
			return fmt.Sprintf("%s failed; the next tick retries it (see the error below)", st.Title)
		case sunset.StateDue, sunset.StateRunning:
			return fmt.Sprintf("%s is %s: runbook tick runs it", st.Title, st.State)
		default:
			return fmt.Sprintf("wait for %s, due %s", st.Title, st.Due.UTC().Format(time.RFC3339))
		}
	}
	if len(steps) == 0 {
		return "no runbook yet: periscope-sunset delist schedule"
	}
	return "every step is done"
}
