package sunset

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// GateState is what the gate enforces.
type GateState struct {
	Blocked    bool      `json:"blocked"`               // sign-ups refused
	Reason     string    `json:"reason,omitempty"`      // why, for the refusal's message
	InfoURL    string    `json:"info_url,omitempty"`    // Link: <InfoURL>; rel="sunset"
	SunsetAt   time.Time `json:"sunset_at,omitzero"`    // Sunset header; zero: none
	ReadOnlyAt time.Time `json:"read_only_at,omitzero"` // from then on mutating requests are refused; zero: never
}

// StateSource is where the gate reads its state; State.GateSource reads it
// from the state store.
type StateSource interface {
	GateState(ctx context.Context) (GateState, error)
}

// GateOptions configure a Gate. The zero value guards "POST /signup" and
// refreshes every 30 seconds on the system clock.
type GateOptions struct {
	// SignupRoutes are the sign-up routes, "METHOD /path" (default
	// "POST /signup"). See ParseRoute and NormalizePath.
	SignupRoutes []string
	// ReadOnlyAllow are the routes that still take mutating requests after
	// the read-only milestone, e.g. "POST /login" or "POST /export-request".
	ReadOnlyAllow []string
	// Refresh is how often Run re-reads the state (default 30s).
	Refresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnRefreshError, when set, is told about each failed refresh; the gate
	// keeps serving the last state it read.
	OnRefreshError func(error)
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
	src     StateSource
	signups []Route
	allow   []Route
	refresh time.Duration
	now     func() time.Time
	onErr   func(error)

	mu    sync.RWMutex
	state GateState
	known bool
}

// NewGate returns a gate reading src. Like http.ServeMux.Handle, it panics
// on an invalid route; check routes from users with ParseRoutes first.
func NewGate(src StateSource, opts GateOptions) *Gate {
	signups := opts.SignupRoutes
	if len(signups) == 0 {
		signups = []string{"POST /signup"}
	}
	g := &Gate{src: src, refresh: opts.Refresh, now: opts.Now, onErr: opts.OnRefreshError}
	var err error
	if g.signups, err = ParseRoutes(signups); err != nil {
		panic("sunset: NewGate: " + err.Error())
	}
	if g.allow, err = ParseRoutes(opts.ReadOnlyAllow); err != nil {
		panic("sunset: NewGate: " + err.Error())
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
	g.mu.Lock()
	g.state, g.known = st, true
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
func (g *Gate) State() (GateState, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.state, g.known
}

// Wrap returns next behind the gate.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, known := g.State()
		sw := &sunsetWriter{ResponseWriter: w, st: st, known: known}
		g.serve(sw, r, st, known, next)
		if !sw.written {
			// The server writes the header of a handler that wrote nothing.
			sw.fix()
		}
	})
}

// serve refuses r or hands it to next, in the order of the gate's
// guarantees: odd bytes and tunnels first, then sign-ups, then read-only.
func (g *Gate) serve(w http.ResponseWriter, r *http.Request, st GateState, known bool, next http.Handler) {
	p, err := requestPath(r)
	if err != nil {
		refuse(w, http.StatusBadRequest, "bad_path", "The request path is not valid.", "")
		return
	}
	if isTunnelMethod(r) {
		refuse(w, http.StatusMethodNotAllowed, "method_refused", "This method is not accepted.", "")
		return
	}
	r, websocket := applyUpgradePolicy(r)
	methods := effectiveMethods(r, websocket)
	if slices.ContainsFunc(methods, func(m string) bool { return matchRefused(g.signups, m, p) }) {
		switch {
		case !known:
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(g.refresh.Seconds()))))
			refuse(w, http.StatusServiceUnavailable, "signups_unavailable",
				"Sign-ups are unavailable right now; try again later.", "")
			return
		case st.Blocked:
			refuse(w, http.StatusGone, "signups_closed", signupMessage(st), st.InfoURL)
			return
		}
	}
	readOnly := known && !st.ReadOnlyAt.IsZero() && !g.now().Before(st.ReadOnlyAt)
	if readOnly && slices.ContainsFunc(methods, func(m string) bool { return isMutating(m) && !matchAllowed(g.allow, m, p) }) {
		refuse(w, http.StatusGone, "read_only",
			"This service is read-only while it shuts down; changes are no longer accepted.", st.InfoURL)
		return
	}
	next.ServeHTTP(w, r)
}

func matchRefused(routes []Route, m, p string) bool {
	for _, rt := range routes {
		if rt.refuses(m, p) {
			return true
		}
	}
	return false
}

func matchAllowed(routes []Route, m, p string) bool {
	for _, rt := range routes {
		if rt.allows(m, p) {
			return true
		}
	}
	return false
}

func signupMessage(st GateState) string {
	msg := "New accounts can no longer be created."
	if st.Reason != "" {
		msg += " " + st.Reason
	}
	return msg
}

// Refusal is the JSON body of every response the gate refuses.
type Refusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	InfoURL string `json:"info_url,omitempty"`
}

func refuse(w http.ResponseWriter, status int, code, msg, info string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(Refusal{Code: code, Message: msg, InfoURL: info})
}
