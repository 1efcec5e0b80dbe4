package sunset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

const flagPrefix = "signups/flag/"

// Flag is the sign-up flag: whether new accounts are refused, why, and
// what the Sunset and Link headers announce.
type Flag struct {
	Blocked    bool      `json:"blocked"`
	Reason     string    `json:"reason,omitempty"`
	InfoURL    string    `json:"info_url,omitempty"`
	SunsetDate time.Time `json:"sunset_date,omitzero"`
	// BlockedSince is when sign-ups were blocked (the change that blocked
	// them, not the latest edit); zero while open.
	BlockedSince time.Time `json:"blocked_since,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
	UpdatedBy    string    `json:"updated_by,omitempty"`
	Version      int       `json:"version"` // 0: never set
}

// Flag reads the current sign-up flag; never set, it is the zero Flag
// (sign-ups open).
func (s *State) Flag(ctx context.Context) (Flag, error) {
	n, body, err := latestVersion(ctx, s.st, flagPrefix)
	if err != nil {
		return Flag{}, fmt.Errorf("read sign-up flag from %s: %w", s.st, err)
	}
	var f Flag
	if n > 0 {
		if err := json.Unmarshal(body, &f); err != nil {
			return Flag{}, fmt.Errorf("read sign-up flag %s: %w", versionKey(flagPrefix, n), err)
		}
		f.Version = n
	}
	return f, nil
}

// BlockRequest sets the flag. Empty InfoURL and zero SunsetDate keep the
// values already set.
type BlockRequest struct {
	Reason     string
	InfoURL    string
	SunsetDate time.Time
}

// FlagChange is what a block or unblock did (or, in a dry run, would do).
type FlagChange struct {
	Before, After Flag
	Changed       bool // false: the flag already said this
	DryRun        bool
}

// Block refuses new sign-ups from now on.
func (s *State) Block(ctx context.Context, req BlockRequest) (FlagChange, error) {
	if req.Reason == "" {
		return FlagChange{}, errors.New("block sign-ups: a reason is required")
	}
	if err := checkInfoURL(req.InfoURL); err != nil {
		return FlagChange{}, fmt.Errorf("block sign-ups: %w", err)
	}
	return s.changeFlag(ctx, "signups.block", func(f *Flag) {
		f.Blocked, f.Reason = true, req.Reason
		if req.InfoURL != "" {
			f.InfoURL = req.InfoURL
		}
		if !req.SunsetDate.IsZero() {
			f.SunsetDate = req.SunsetDate.UTC()
		}
	})
}

// Unblock lets sign-ups in again. clearSunset also drops the sunset date
// and info URL, so the gate stops sending Sunset and Link headers (the
// shutdown is called off); otherwise they stay.
func (s *State) Unblock(ctx context.Context, reason string, clearSunset bool) (FlagChange, error) {
	if reason == "" {
		return FlagChange{}, errors.New("unblock sign-ups: a reason is required")
	}
	return s.changeFlag(ctx, "signups.unblock", func(f *Flag) {
		f.Blocked, f.Reason = false, reason
		if clearSunset {
			f.SunsetDate, f.InfoURL = time.Time{}, ""
		}
	})
}

// changeFlag writes the next version of the flag as edit makes it, unless
// edit changes nothing.
func (s *State) changeFlag(ctx context.Context, action string, edit func(*Flag)) (FlagChange, error) {
	before, err := s.Flag(ctx)
	if err != nil {
		return FlagChange{}, err
	}
	after := before
	edit(&after)
	ch := FlagChange{Before: before, After: after, DryRun: s.dry}
	if sameFlag(before, after) {
		return ch, nil
	}
	ch.Changed = true
	after.Version, after.UpdatedAt, after.UpdatedBy = before.Version+1, s.now(), s.actor
	switch {
	case !after.Blocked:
		after.BlockedSince = time.Time{}
	case !before.Blocked:
		after.BlockedSince = after.UpdatedAt
	}
	ch.After = after
	if s.dry {
		return ch, nil
	}
	if err := writeVersion(ctx, s.st, flagPrefix, after.Version, after); err != nil {
		if errors.Is(err, blob.ErrPrecondition) {
			return ch, s.flagConflict(ctx, err)
		}
		return ch, fmt.Errorf("write sign-up flag to %s: %w", s.st, err)
	}
	var b *Flag
	if before.Version > 0 {
		b = &before
	}
	err = s.record(ctx, Event{Action: action, Subject: "signups", Result: "ok",
		Detail: after.Reason, Before: rawJSON(b), After: rawJSON(after)})
	return ch, err
}

// flagConflict names the change that won.
func (s *State) flagConflict(ctx context.Context, err error) error {
	ce := &ConflictError{What: "sign-up flag", Err: err}
	if now, rerr := s.Flag(ctx); rerr == nil {
		ce.By, ce.At = now.UpdatedBy, now.UpdatedAt
	}
	return ce
}

func sameFlag(a, b Flag) bool {
	return a.Blocked == b.Blocked && a.Reason == b.Reason && a.InfoURL == b.InfoURL &&
		a.SunsetDate.Equal(b.SunsetDate)
}

func checkInfoURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("info URL %q: want an absolute http(s) URL", raw)
	}
	// It goes into a Link header between < and >.
	if strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f || strings.ContainsRune(`<>"`, r) }) {
		return fmt.Errorf("info URL %q: spaces, control characters, <, > and \" must be percent-encoded", raw)
	}
	return nil
}
