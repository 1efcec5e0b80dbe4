package gate

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// State is what the gate enforces.
type State struct {
	Blocked      bool      `json:"blocked"`                // sign-ups refused
	BlockedSince time.Time `json:"blocked_since,omitzero"` // when they were blocked; zero: unknown or open
	Reason       string    `json:"reason,omitempty"`       // why, for the refusal's message
	InfoURL      string    `json:"info_url,omitempty"`     // Link: <InfoURL>; rel="sunset"
	SunsetAt     time.Time `json:"sunset_at,omitzero"`     // Sunset header; zero: none
	ReadOnlyAt   time.Time `json:"read_only_at,omitzero"`  // from then on mutating requests are refused; zero: never
}

// Source is where the gate reads its state. The sunset package's state
// store is one (sunset.State.GateSource); a test or another app can be too.
type Source interface {
	GateState(ctx context.Context) (State, error)
}

// Options configure a Gate. The zero value guards "POST /signup" and
// refreshes every 30 seconds on the system clock.
type Options struct {
	// SignupRoutes are the sign-up routes (default "POST /signup"), from
	// ParseRoutes.
	SignupRoutes []Route
	// ReadOnlyAllow are the routes that still take mutating requests after
	// the read-only milestone, e.g. "POST /login" or "POST /export-request".
	ReadOnlyAllow []Route
	// Refresh is how often Run re-reads the state (default 30s).
	Refresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnRefreshError, when set, is told about each failed refresh; the gate
	// keeps serving the last state it read.
	OnRefreshError func(error)
	// StatusPath is where the gate answers its status document itself
	// (default DefaultStatusPath); see Status.
	StatusPath string
	// OnDecision, when set, is told how each request was decided: the kind
	// of route (signup, mutating, status, other) and the outcome (pass,
	// answered, or the refusal's code, e.g. signups_closed). It runs on the
	// request's goroutine and must be cheap (a metrics counter).
	OnDecision func(route, outcome string)
}

// Gate is an http.Handler middleware that refuses sign-ups while they are
// blocked and every mutating request after the read-only milestone, and
// puts its own RFC 8594 Sunset and Link headers on every response (the
// app's are replaced). It answers 400 to a path holding a control
// character, 405 to CONNECT and the HTTP/2 preface, and lets only
// WebSocket upgrades through (see MethodWebSocket); others are stripped.
//
// Until it has read the state once it refuses sign-ups (503, temporary: it
// does not know yet). After a failed refresh it keeps the last state read.
type Gate struct {
	src     Source
	signups []Route
	allow   []Route
	refresh time.Duration
	now     func() time.Time
	onErr   func(error)
	status  string // the status document's path
	// onDecision is Options.OnDecision (nil: none)
	onDecision func(route, outcome string)

	mu    sync.RWMutex
	state State
	doc   statusDoc // state as the status document
	known bool
}

// DefaultSignupRoute is the sign-up route of a gate given none.
var DefaultSignupRoute = Route{method: http.MethodPost, path: "/signup"}

// New returns a gate reading src. It reads nothing yet: call Run (or
// Refresh) to load the state.
func New(src Source, opts Options) *Gate {
	g := &Gate{src: src, signups: slices.Clone(opts.SignupRoutes), allow: slices.Clone(opts.ReadOnlyAllow),
		refresh: opts.Refresh, now: opts.Now, onErr: opts.OnRefreshError, status: cmp.Or(opts.StatusPath, DefaultStatusPath),
		onDecision: opts.OnDecision}
	if len(g.signups) == 0 {
		g.signups = []Route{DefaultSignupRoute}
	}
	if g.refresh <= 0 {
		g.refresh = 30 * time.Second
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.onErr == nil {
		g.onErr = func(error) {}
	}
	return g
}

// Refresh reads the state once. On error the gate keeps what it had.
func (g *Gate) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, min(g.refresh, 10*time.Second))
	defer cancel()
	st, err := g.src.GateState(ctx)
	if err != nil {
		return fmt.Errorf("gate: refresh state: %w", err)
	}
	doc := newStatusDoc(st)
	g.mu.Lock()
	g.state, g.doc, g.known = st, doc, true
	g.mu.Unlock()
	return nil
}

// Run refreshes the state now and then on every interval until ctx ends.
// Run it in its own goroutine.
func (g *Gate) Run(ctx context.Context) {
	t := time.NewTicker(g.refresh)
	defer t.Stop()
	for {
		if err := g.Refresh(ctx); err != nil && ctx.Err() == nil {
			g.onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// State returns the state in force and whether it was ever read.
func (g *Gate) State() (State, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.state, g.known
}
