package sunset

import (
	"context"
	"errors"
	"net/url"

	"github.com/periscope-sunset/periscope-sunset/sunset/gate"
)

// GateSource returns the gate's view of the state store: a gate.Source
// that reads the sign-up flag and the schedule. The Sunset date is the flag's, else the
// schedule's read-only milestone; the info URL the flag's, else the
// schedule's; read-only starts at the read-only milestone.
func (s *State) GateSource() gate.Source { return storeSource{s} }

type storeSource struct{ s *State }

func (src storeSource) GateState(ctx context.Context) (gate.State, error) {
	f, err := src.s.Flag(ctx)
	if err != nil {
		return gate.State{}, err
	}
	p, err := src.s.LoadSchedule(ctx)
	if err != nil && !errors.Is(err, ErrNoSchedule) {
		return gate.State{}, err
	}
	st := gate.State{Blocked: f.Blocked, Reason: f.Reason, InfoURL: f.InfoURL, SunsetAt: f.SunsetDate, BlockedSince: f.BlockedSince}
	if f.Blocked && st.BlockedSince.IsZero() {
		// A flag written before BlockedSince was kept: its last change is
		// the latest the block can have started.
		st.BlockedSince = f.UpdatedAt
	}
	ro := readOnlyAt(p)
	st.ReadOnlyAt = ro
	if st.SunsetAt.IsZero() {
		st.SunsetAt = ro
	}
	if st.InfoURL == "" {
		st.InfoURL = p.InfoURL
	}
	// Re-serialise so that no stored value can break the Link header.
	if u, err := url.Parse(st.InfoURL); err == nil && u.Host != "" && checkInfoURL(u.String()) == nil {
		st.InfoURL = u.String()
	} else {
		st.InfoURL = ""
	}
	return st, nil
}
