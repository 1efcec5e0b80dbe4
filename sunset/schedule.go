package sunset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// schedulePrefix keeps its old name, "plan", in stored keys, so state
// written by earlier versions still reads.
const schedulePrefix = "runbook/plan/"

// Stores the runbook can delist from.
var knownStores = []string{"apple", "google"}

// ErrNoSchedule is returned when the runbook has not been scheduled yet.
var ErrNoSchedule = errors.New("no delisting scheduled yet: run 'periscope-sunset delist schedule' first")

// Milestone is one dated step of the schedule.
type Milestone struct {
	Step  string    `json:"step"`
	Title string    `json:"title"`
	Kind  string    `json:"kind"` // auto or manual
	Due   time.Time `json:"due"`
}

// Schedule is the delisting schedule.
type Schedule struct {
	ID         string      `json:"id"` // kept across reschedules: calendar UIDs derive from it
	DelistAt   time.Time   `json:"delist_at"`
	TimeZone   string      `json:"time_zone"`
	Stores     []string    `json:"stores"`
	InfoURL    string      `json:"info_url,omitempty"`
	Milestones []Milestone `json:"milestones"`
	UpdatedAt  time.Time   `json:"updated_at"`
	UpdatedBy  string      `json:"updated_by"`
	Version    int         `json:"version"`
}

// Milestone returns the schedule's milestone for step.
func (p Schedule) Milestone(step string) (Milestone, bool) {
	for _, m := range p.Milestones {
		if m.Step == step {
			return m, true
		}
	}
	return Milestone{}, false
}

// Location is the schedule's time zone (UTC if it cannot be loaded).
func (p Schedule) Location() *time.Location {
	if loc, err := time.LoadLocation(p.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// LoadSchedule reads the current schedule, or ErrNoSchedule.
func (s *State) LoadSchedule(ctx context.Context) (Schedule, error) {
	n, body, err := latestVersion(ctx, s.st, schedulePrefix)
	if err != nil {
		return Schedule{}, fmt.Errorf("read schedule from %s: %w", s.st, err)
	}
	if n == 0 {
		return Schedule{}, ErrNoSchedule
	}
	var p Schedule
	if err := json.Unmarshal(body, &p); err != nil {
		return Schedule{}, fmt.Errorf("read schedule %s: %w", versionKey(schedulePrefix, n), err)
	}
	p.Version = n
	return p, nil
}

// ScheduleRequest sets the delisting date.
type ScheduleRequest struct {
	// At is the delisting date; zero means the next March 31, 00:00 in
	// Location.
	At time.Time
	// Location is the zone dates are counted in (default UTC).
	Location *time.Location
	// Stores to delist from: "apple", "google" or both.
	Stores []string
	// InfoURL is the page the shutdown notice lives on; the
	// signups-blocked step puts it on the flag.
	InfoURL string
	// OffsetDays overrides the default offset of a step from At, in days.
	OffsetDays map[string]int
}

// ScheduleChange is what Schedule did (or would do).
type ScheduleChange struct {
	Before *Schedule // nil: first schedule
	After  Schedule
	DryRun bool
}

// Schedule writes a new version of the schedule.
func (s *State) Schedule(ctx context.Context, req ScheduleRequest) (ScheduleChange, error) {
	after, err := s.newSchedule(req)
	if err != nil {
		return ScheduleChange{}, fmt.Errorf("schedule: %w", err)
	}
	ch := ScheduleChange{After: after, DryRun: s.dry}
	before, err := s.LoadSchedule(ctx)
	switch {
	case errors.Is(err, ErrNoSchedule):
		after.ID = randomID(8)
	case err != nil:
		return ch, err
	default:
		ch.Before = &before
		after.ID = before.ID
	}
	after.Version = before.Version + 1
	ch.After = after
	if s.dry {
		return ch, nil
	}
	if err := writeVersion(ctx, s.st, schedulePrefix, after.Version, after); err != nil {
		if errors.Is(err, blob.ErrPrecondition) {
			ce := &ConflictError{What: "schedule", Err: err}
			if p, rerr := s.LoadSchedule(ctx); rerr == nil {
				ce.By, ce.At = p.UpdatedBy, p.UpdatedAt
			}
			return ch, ce
		}
		return ch, fmt.Errorf("write schedule to %s: %w", s.st, err)
	}
	err = s.record(ctx, Event{Action: "delist.schedule", Subject: "runbook", Result: "ok",
		Detail: "delisting at " + after.DelistAt.Format(time.RFC3339),
		Before: rawJSON(ch.Before), After: rawJSON(after)})
	return ch, err
}

func (s *State) newSchedule(req ScheduleRequest) (Schedule, error) {
	loc := req.Location
	if loc == nil {
		loc = time.UTC
	}
	at := req.At
	if at.IsZero() {
		at = NextMarch31(s.now(), loc)
	}
	at = at.In(loc)
	if len(req.Stores) == 0 {
		return Schedule{}, errors.New("name the stores to delist from (apple, google)")
	}
	stores := slices.Clone(req.Stores)
	slices.Sort(stores)
	stores = slices.Compact(stores)
	for _, st := range stores {
		if !slices.Contains(knownStores, st) {
			return Schedule{}, fmt.Errorf("unknown store %q: want apple or google", st)
		}
	}
	if err := checkInfoURL(req.InfoURL); err != nil {
		return Schedule{}, err
	}
	for step := range req.OffsetDays {
		if _, ok := findStep(step); !ok {
			return Schedule{}, fmt.Errorf("offset for unknown step %q", step)
		}
	}
	p := Schedule{DelistAt: at, TimeZone: loc.String(), Stores: stores, InfoURL: req.InfoURL,
		UpdatedAt: s.now(), UpdatedBy: s.actor}
	for _, d := range stepDefs() {
		if d.store != "" && !slices.Contains(stores, d.store) {
			continue
		}
		days := d.days
		if v, ok := req.OffsetDays[d.name]; ok {
			days = v
		}
		p.Milestones = append(p.Milestones, Milestone{Step: d.name, Title: d.title, Kind: d.kind, Due: due(at, days)})
	}
	return p, nil
}
