package gate

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSource serves a settable state, or an error.
type fakeSource struct {
	mu    sync.Mutex
	state State
	err   error
	reads int
}

func (f *fakeSource) GateState(context.Context) (State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.state, f.err
}

func (f *fakeSource) set(st State, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state, f.err = st, err
}

var (
	testReadOnlyAt = time.Date(2027, 3, 31, 7, 0, 0, 0, time.UTC)
	sunsetAt       = time.Date(2027, 7, 6, 7, 0, 0, 0, time.UTC)
	blocked        = State{Blocked: true, Reason: "Periscope is shutting down.", InfoURL: "https://example.com/bye",
		SunsetAt: sunsetAt, ReadOnlyAt: testReadOnlyAt}
)

// okHandler is the app behind the gate.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-App", "reached")
	w.WriteHeader(http.StatusOK)
})

func newTestGate(t *testing.T, src Source, clk *clock) *Gate {
	t.Helper()
	g := New(src, Options{
		SignupRoutes:  routes(t, "POST /signup", "POST /api/v1/users", "GET /register"),
		ReadOnlyAllow: routes(t, "POST /login", "DELETE /api/v1/sessions"),
		Now:           clk.now,
	})
	if err := g.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return g
}

type gateCase struct {
	name    string
	method  string
	target  string
	header  map[string]string
	status  int
	code    string // refusal code, "" when the app answers
	headers bool   // Sunset and Link expected
}

func runGateCases(t *testing.T, g *Gate, cases []gateCase) {
	t.Helper()
	h := g.Wrap(okHandler)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://app.example.com"+tc.target, strings.NewReader(`{"username":"x"}`))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("%s %s = %d, want %d (body %s)", tc.method, tc.target, rec.Code, tc.status, rec.Body)
			}
			reached := rec.Header().Get("X-App") == "reached"
			if reached != (tc.code == "") {
				t.Fatalf("app reached = %v, want %v", reached, tc.code == "")
			}
			if tc.code != "" {
				checkRefusal(t, rec, tc.code)
			}
			checkSunsetHeaders(t, rec.Header(), tc.headers)
		})
	}
}

func checkRefusal(t *testing.T, rec *httptest.ResponseRecorder, code string) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("refusal Content-Type %q", ct)
	}
	var body Refusal
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("refusal body %q: %v", rec.Body, err)
	}
	if body.Code != code || body.Message == "" {
		t.Errorf("refusal %+v, want code %s and a message", body, code)
	}
	if (code == "signups_closed" || code == "read_only") && body.InfoURL != blocked.InfoURL {
		t.Errorf("refusal info_url %q, want %q", body.InfoURL, blocked.InfoURL)
	}
}

func checkSunsetHeaders(t *testing.T, h http.Header, want bool) {
	t.Helper()
	s, link := h.Get("Sunset"), h.Get("Link")
	if !want {
		if s != "" || link != "" {
			t.Errorf("unexpected Sunset %q / Link %q", s, link)
		}
		return
	}
	when, err := http.ParseTime(s)
	if err != nil || !when.Equal(sunsetAt) || s != sunsetAt.Format(http.TimeFormat) {
		t.Errorf("Sunset %q (%v): want the HTTP-date %s", s, err, sunsetAt.Format(http.TimeFormat))
	}
	if link != `<https://example.com/bye>; rel="sunset"` {
		t.Errorf("Link %q", link)
	}
}

// TestGateSignupRoutes is the table of sign-up requests, bypass attempts
// included, while sign-ups are blocked and before read-only.
func TestGateSignupRoutes(t *testing.T) {
	clk := newClock(testReadOnlyAt.Add(-24 * time.Hour))
	g := newTestGate(t, &fakeSource{state: blocked}, clk)
	gone := func(name, method, target string) gateCase {
		return gateCase{name: name, method: method, target: target, status: 410, code: "signups_closed", headers: true}
	}
	pass := func(name, method, target string) gateCase {
		return gateCase{name: name, method: method, target: target, status: 200, headers: true}
	}
	runGateCases(t, g, []gateCase{
		gone("plain", "POST", "/signup"),
		gone("second route", "POST", "/api/v1/users"),
		gone("upper case path", "POST", "/SIGNUP"),
		gone("mixed case path", "POST", "/Api/V1/Users"),
		gone("lower case method", "post", "/signup"),
		gone("mixed case method", "PoSt", "/signup"),
		gone("trailing slash", "POST", "/signup/"),
		gone("trailing slashes", "POST", "/signup///"),
		gone("leading double slash", "POST", "//signup"),
		gone("inner double slash", "POST", "/api//v1///users"),
		gone("dot segment", "POST", "/./signup"),
		gone("dot-dot segment", "POST", "/static/../signup"),
		gone("encoded dot-dot", "POST", "/static/%2e%2e/signup"),
		gone("percent-encoded letter", "POST", "/sign%75p"),
		gone("percent-encoded all", "POST", "/%73%69%67%6E%75%70"),
		gone("double-encoded letter", "POST", "/%2573ignup"),
		gone("triple-encoded letter", "POST", "/%252573ignup"),
		gone("encoded slash", "POST", "/api%2Fv1%2Fusers"),
		gone("double-encoded slash", "POST", "/api%252Fv1%252Fusers"),
		gone("encoded backslash", "POST", "/api%5Cv1%5Cusers"),
		gone("query string", "POST", "/signup?ref=ad&utm=1"),
		gone("empty query", "POST", "/signup?"),
		gone("path parameter", "POST", "/signup;jsessionid=abc"),
		gone("encoded path parameter", "POST", "/signup%3Bx=1"),
		gone("format suffix", "POST", "/signup.json"),
		gone("format suffix on api", "POST", "/api/v1/users.xml"),
		gone("trailing dot", "POST", "/signup."),
		gone("trailing encoded space", "POST", "/signup%20"),
		{name: "NUL truncation", method: "POST", target: "/signup%00.html", status: 400, code: "bad_path", headers: true},
		gone("encoded hash", "POST", "/signup%23x"),
		gone("encoded question mark", "POST", "/signup%3Fx=1"),
		{name: "override header", method: "GET", target: "/signup", header: map[string]string{"X-HTTP-Method-Override": "POST"},
			status: 410, code: "signups_closed", headers: true},
		{name: "override header lower case", method: "GET", target: "/signup", header: map[string]string{"X-Method-Override": "post"},
			status: 410, code: "signups_closed", headers: true},
		gone("_method override", "GET", "/signup?_method=POST"),
		gone("GET route", "GET", "/register"),
		gone("HEAD on a GET route", "HEAD", "/register"),
		gone("lower case HEAD on a GET route", "head", "/REGISTER/"),
		pass("GET of a POST route", "GET", "/signup"),
		pass("HEAD of a POST route", "HEAD", "/signup"),
		pass("CORS preflight", "OPTIONS", "/signup"),
		pass("longer path", "POST", "/signup/confirm"),
		pass("prefix only", "POST", "/signupx"),
		pass("other route", "POST", "/posts"),
		pass("root", "GET", "/"),
	})
}

// TestGateReadOnly: after the read-only milestone every mutating request is
// refused except the allowlist.
func TestGateReadOnly(t *testing.T) {
	clk := newClock(testReadOnlyAt)
	g := newTestGate(t, &fakeSource{state: blocked}, clk)
	ro := func(name, method, target string) gateCase {
		return gateCase{name: name, method: method, target: target, status: 410, code: "read_only", headers: true}
	}
	pass := func(name, method, target string) gateCase {
		return gateCase{name: name, method: method, target: target, status: 200, headers: true}
	}
	runGateCases(t, g, []gateCase{
		ro("POST", "POST", "/posts"),
		ro("PUT", "PUT", "/posts/1"),
		ro("PATCH", "PATCH", "/posts/1"),
		ro("DELETE", "DELETE", "/posts/1"),
		ro("lower case method", "delete", "/posts/1"),
		ro("other unsafe method", "PROPPATCH", "/dav/x"),
		{name: "override on GET", method: "GET", target: "/posts/1", header: map[string]string{"X-HTTP-Method-Override": "DELETE"},
			status: 410, code: "read_only", headers: true},
		ro("_method on GET", "GET", "/posts/1?_method=DELETE"),
		ro("allowlisted path, other method", "PUT", "/login"),
		{name: "sign-up still says sign-ups", method: "POST", target: "/signup", status: 410, code: "signups_closed", headers: true},
		pass("GET", "GET", "/posts/1"),
		pass("HEAD", "HEAD", "/posts/1"),
		pass("OPTIONS", "OPTIONS", "/posts/1"),
		pass("allowlisted", "POST", "/login"),
		pass("allowlisted, other spelling", "POST", "/LOGIN/?next=/"),
		pass("allowlisted DELETE", "DELETE", "/api/v1//sessions"),
	})
	clk.set(testReadOnlyAt.Add(-time.Second))
	runGateCases(t, g, []gateCase{pass("a second before read-only", "POST", "/posts")})
}

func TestGateOpenAndUnknown(t *testing.T) {
	clk := newClock(testReadOnlyAt.Add(-time.Hour))
	src := &fakeSource{state: State{}}
	g := newTestGate(t, src, clk)
	runGateCases(t, g, []gateCase{
		{name: "open sign-ups pass, no headers", method: "POST", target: "/signup", status: 200},
	})

	// A gate that never read the state refuses sign-ups (503: not known
	// yet, not gone) and lets everything else through.
	src.set(State{}, errors.New("store unreachable"))
	fresh := New(src, Options{Now: clk.now, Refresh: 15 * time.Second})
	if err := fresh.Refresh(context.Background()); err == nil {
		t.Fatal("refresh of an unreachable store succeeded")
	}
	h := fresh.Wrap(okHandler)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/signup", nil))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "15" || rec.Header().Get("X-App") != "" {
		t.Fatalf("unknown state: sign-up got %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	checkRefusal(t, rec, "signups_unavailable")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 {
		t.Fatalf("unknown state: GET / got %d", rec.Code)
	}
}

// TestGateRunKeepsLastState: the refresh loop picks up changes, and keeps
// the last state read while the store is unreachable.
func TestGateRunKeepsLastState(t *testing.T) {
	src := &fakeSource{state: blocked}
	var mu sync.Mutex
	var errs []error
	g := New(src, Options{Refresh: 5 * time.Millisecond, OnRefreshError: func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	waitFor(t, func() bool { st, ok := g.State(); return ok && st.Blocked })

	src.set(State{}, errors.New("connection refused"))
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(errs) >= 3 })
	if st, ok := g.State(); !ok || !st.Blocked {
		t.Fatalf("after failed refreshes the gate has %+v, want the last state (blocked)", st)
	}
	src.set(State{Blocked: false}, nil)
	waitFor(t, func() bool { st, _ := g.State(); return !st.Blocked })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestParseRoute(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Route
		ok   bool
	}{
		{"POST /signup", Route{"POST", "/signup"}, true},
		{"post /SignUp/", Route{"POST", "/signup"}, true},
		{"  POST   /api//v1/users  ", Route{"POST", "/api/v1/users"}, true},
		{"/signup", Route{"", "/signup"}, true},
		{"ANY /signup", Route{"", "/signup"}, true},
		{"POST signup", Route{}, false},
		{"POST /a /b", Route{}, false},
		{"PO5T /signup", Route{}, false},
		{"", Route{}, false},
		{"POST /sign%00up", Route{}, false},
		{"POST /signup\n", Route{"POST", "/signup"}, true},
		{"POST /sign%250aup", Route{}, false},
		{"WEBSOCKET /Live/", Route{"WEBSOCKET", "/live"}, true},
	} {
		got, err := ParseRoute(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseRoute(%q) = %+v, %v; want %+v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestNewDefaultRoute: a gate given no sign-up route guards POST /signup.
func TestNewDefaultRoute(t *testing.T) {
	g := New(&fakeSource{state: blocked}, Options{Now: newClock(testReadOnlyAt.Add(-time.Hour)).now})
	if err := g.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	runGateCases(t, g, []gateCase{{name: "default route", method: "POST", target: "/SignUp", status: 410, code: "signups_closed", headers: true}})
}
