package gate

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// Wrap returns next behind the gate.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, known := g.State()
		sw := &sunsetWriter{ResponseWriter: w, st: st, known: known}
		route, outcome := g.serve(sw, r, st, known, next)
		if g.onDecision != nil {
			g.onDecision(route, outcome)
		}
		if !sw.written {
			// The server writes the header of a handler that wrote nothing.
			sw.fix()
		}
	})
}

// serve refuses r or hands it to next, in the order of the gate's
// guarantees: odd bytes and tunnels first, then sign-ups, then read-only.
// It returns the decision for Options.OnDecision: the kind of route
// (signup, mutating, status, other) and the outcome (pass, or the refusal's
// code).
func (g *Gate) serve(w http.ResponseWriter, r *http.Request, st State, known bool, next http.Handler) (route, outcome string) {
	paths, err := requestPaths(r)
	if err != nil {
		refuse(w, http.StatusBadRequest, "bad_path", "The request path is not valid.", "")
		return "other", "bad_path"
	}
	if isTunnelMethod(r) {
		refuse(w, http.StatusMethodNotAllowed, "method_refused", "This method is not accepted.", "")
		return "other", "method_refused"
	}
	r, websocket := applyUpgradePolicy(r)
	if r.URL.Path == g.status {
		g.serveStatus(w, r)
		return "status", "answered"
	}
	methods := effectiveMethods(r, websocket)
	v := g.verdict(methods, paths, st, known)
	if v == nil && isFormPost(r) && g.verdict(append(methods, methodAny), paths, st, known) != nil {
		// Only a _method field in the body could change the answer: read it.
		methods = append(methods, formOverrides(r)...)
		v = g.verdict(methods, paths, st, known)
	}
	if v != nil {
		return v(w)
	}
	next.ServeHTTP(w, r)
	switch {
	case anyPair(methods, paths, func(m, p string) bool { return matchRefused(g.signups, m, p) }):
		return "signup", "pass"
	case slices.ContainsFunc(methods, isMutating):
		return "mutating", "pass"
	}
	return "other", "pass"
}

// verdict is the refusal for a request that may be handled as any of
// methods on any of paths, or nil if it may pass. The refusal returns the
// route kind and code it answered with.
func (g *Gate) verdict(methods, paths []string, st State, known bool) func(http.ResponseWriter) (string, string) {
	if anyPair(methods, paths, func(m, p string) bool { return matchRefused(g.signups, m, p) }) {
		switch {
		case !known:
			return func(w http.ResponseWriter) (string, string) {
				w.Header().Set("Retry-After", strconv.Itoa(g.refreshSeconds()))
				refuse(w, http.StatusServiceUnavailable, "signups_unavailable",
					"Sign-ups are unavailable right now; try again later.", "")
				return "signup", "signups_unavailable"
			}
		case st.Blocked:
			return func(w http.ResponseWriter) (string, string) {
				refuse(w, http.StatusGone, "signups_closed", signupMessage(st), st.InfoURL)
				return "signup", "signups_closed"
			}
		}
	}
	readOnly := known && !st.ReadOnlyAt.IsZero() && !g.now().Before(st.ReadOnlyAt)
	if readOnly && anyPair(methods, paths, func(m, p string) bool { return isMutating(m) && !matchAllowed(g.allow, m, p) }) {
		return func(w http.ResponseWriter) (string, string) {
			refuse(w, http.StatusGone, "read_only",
				"This service is read-only while it shuts down; changes are no longer accepted.", st.InfoURL)
			return "mutating", "read_only"
		}
	}
	return nil
}

// anyPair reports whether f holds for some method and path.
func anyPair(methods, paths []string, f func(m, p string) bool) bool {
	for _, p := range paths {
		if slices.ContainsFunc(methods, func(m string) bool { return f(m, p) }) {
			return true
		}
	}
	return false
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

func signupMessage(st State) string {
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
