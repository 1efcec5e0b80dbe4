package gate

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestGateControlCharacters: a path holding a control character, raw or
// percent-encoded at any depth, is refused with 400 before the app.
func TestGateControlCharacters(t *testing.T) {
	g := newTestGate(t, &fakeSource{state: blocked}, newClock(testReadOnlyAt.Add(-time.Hour)))
	bad := func(target string) gateCase {
		return gateCase{name: target, method: "GET", target: target, status: 400, code: "bad_path", headers: true}
	}
	var cases []gateCase
	for c := range 0x20 {
		cases = append(cases, bad(fmt.Sprintf("/feed%%%02x", c)), bad(fmt.Sprintf("/signup%%%02Xx", c)))
	}
	cases = append(cases, bad("/feed%7f"), bad("/feed%7F/x"),
		bad("/signup%250a"), bad("/signup%25250d"), bad("/sign%2500up"), bad("/%2509signup"),
		bad("/a%0b"), bad("/a%0c"), bad("/a%09b"), bad("/a%00"), bad("/a%0d%0aSet-Cookie:x=1"),
		bad("/"+deepEncode("%0a", 6)), bad("/signup"+deepEncode("s", 7)),
		gateCase{name: "percent that decodes to a percent", method: "GET", target: "/100%25", status: 200, headers: true},
		gateCase{name: "encoded space is not a control", method: "GET", target: "/a%20b", status: 200, headers: true},
	)
	runGateCases(t, g, cases)

	// A raw control character in a request built in the program (a
	// server rejects it in a request line; a handler chain may not).
	for _, raw := range []string{"/feed\n", "/signup\x00", "/a\tb", "/a\x7f"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path, req.URL.RawPath = raw, ""
		rec := httptest.NewRecorder()
		g.Wrap(okHandler).ServeHTTP(rec, req)
		if rec.Code != 400 || rec.Header().Get("X-App") != "" {
			t.Errorf("raw %q: %d, app %q", raw, rec.Code, rec.Header().Get("X-App"))
		}
	}
}

// deepEncode percent-encodes s n times over.
func deepEncode(s string, n int) string {
	for range n {
		var out string
		for _, c := range []byte(s) {
			out += fmt.Sprintf("%%%02X", c)
		}
		s = out
	}
	return s
}

// TestGateMethodOverrideReadOnly: an override is read the same way for the
// allow-list as for the sign-up routes, so a DELETE, PUT or PATCH never
// passes through a "POST /x" entry.
func TestGateMethodOverrideReadOnly(t *testing.T) {
	g := New(&fakeSource{state: blocked}, Options{
		SignupRoutes:  routes(t, "PUT /api/v1/users"),
		ReadOnlyAllow: routes(t, "POST /x", "ANY /any"),
		Now:           newClock(testReadOnlyAt.Add(time.Hour)).now,
	})
	if err := g.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	ro := func(name, method, target, header, value string) gateCase {
		return gateCase{name: name, method: method, target: target, header: map[string]string{header: value},
			status: 410, code: "read_only", headers: true}
	}
	var cases []gateCase
	for _, h := range methodOverrides {
		for _, m := range []string{"DELETE", "PUT", "PATCH", "delete", " Patch "} {
			cases = append(cases, ro(h+" "+m, "POST", "/x", h, m))
		}
		cases = append(cases, ro(h+" list", "POST", "/x", h, "POST, DELETE"))
		cases = append(cases, gateCase{name: h + " POST on GET", method: "GET", target: "/x", header: map[string]string{h: "POST"},
			status: 200, headers: true})
		cases = append(cases, gateCase{name: h + " sign-up", method: "POST", target: "/api/v1/users", header: map[string]string{h: "PUT"},
			status: 410, code: "signups_closed", headers: true})
	}
	cases = append(cases,
		gateCase{name: "_method DELETE", method: "POST", target: "/x?_method=DELETE", status: 410, code: "read_only", headers: true},
		gateCase{name: "_method encoded", method: "POST", target: "/x?%5Fmethod=put", status: 410, code: "read_only", headers: true},
		gateCase{name: "_method sign-up", method: "POST", target: "/api/v1/users?_method=PUT", status: 410, code: "signups_closed", headers: true},
		gateCase{name: "plain POST allowed", method: "POST", target: "/x", status: 200, headers: true},
		gateCase{name: "ANY entry takes DELETE", method: "POST", target: "/any", header: map[string]string{"X-HTTP-Method": "DELETE"},
			status: 200, headers: true},
	)
	runGateCases(t, g, cases)
}

// TestGateUpgrades: only WebSocket may upgrade, and only where the gate
// lets a WebSocket through; every other upgrade is stripped before the app.
func TestGateUpgrades(t *testing.T) {
	var seen http.Header
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		w.Header().Set("X-App", "reached")
	})
	src := &fakeSource{state: blocked}
	clk := newClock(testReadOnlyAt.Add(-time.Hour))
	g := New(src, Options{SignupRoutes: routes(t, "POST /signup"), ReadOnlyAllow: routes(t, "WEBSOCKET /live", "ANY /any", "POST /chat"), Now: clk.now})
	if err := g.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(app)
	do := func(method, target string, hdr map[string]string) *httptest.ResponseRecorder {
		seen = nil
		req := httptest.NewRequest(method, target, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	ws := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
	for _, up := range []string{"h2c", "H2C", "websocket, h2c", "h2c, websocket", "TLS/1.0", "spdy/3.1", "foo"} {
		rec := do("GET", "/feed", map[string]string{"Connection": "keep-alive, Upgrade, HTTP2-Settings", "Upgrade": up, "HTTP2-Settings": "AAMAAABk"})
		if rec.Code != 200 || seen == nil {
			t.Fatalf("Upgrade %q: %d", up, rec.Code)
		}
		if seen.Get("Upgrade") != "" || seen.Get("HTTP2-Settings") != "" || seen.Get("Connection") != "keep-alive" {
			t.Errorf("Upgrade %q reached the app as %v", up, seen)
		}
	}
	if rec := do("GET", "/feed", ws); rec.Code != 200 || seen.Get("Upgrade") != "websocket" {
		t.Errorf("WebSocket on an open route: %d, app saw %v", rec.Code, seen)
	}
	for _, target := range []string{"/signup", "/SignUp/", "/signup?_method=GET"} {
		if rec := do("GET", target, ws); rec.Code != 410 || seen != nil {
			t.Errorf("WebSocket on sign-up route %s while blocked: %d", target, rec.Code)
		}
	}
	for _, m := range []string{"CONNECT", "PRI"} {
		if rec := do(m, "/feed", nil); rec.Code != 405 || seen != nil {
			t.Errorf("%s: %d", m, rec.Code)
		}
	}

	clk.set(testReadOnlyAt)
	for target, want := range map[string]int{"/live": 200, "/any": 200, "/chat": 410, "/feed": 410, "/signup": 410} {
		if rec := do("GET", target, ws); rec.Code != want || (seen != nil) != (want == 200) {
			t.Errorf("read-only: WebSocket on %s: %d, want %d", target, rec.Code, want)
		}
	}
}

// TestGateOwnsSunsetHeaders: whatever the app sets, a response carries the
// gate's Sunset header once and only the gate's rel="sunset" Link.
func TestGateOwnsSunsetHeaders(t *testing.T) {
	g := newTestGate(t, &fakeSource{state: blocked}, newClock(testReadOnlyAt.Add(-time.Hour)))
	for name, app := range map[string]http.HandlerFunc{
		"writes nothing": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("Sunset", "Thu, 01 Jan 2099 00:00:00 GMT")
			w.Header().Add("Link", `<https://evil.example/>; rel="sunset"`)
			w.Header().Add("Link", `<https://app.example/2>; rel="next", <https://evil.example/>; REL=Sunset`)
		},
		"writes a body": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Sunset", "Thu, 01 Jan 2099 00:00:00 GMT")
			w.Header().Add("Link", `<https://app.example/2>; rel="next"`)
			w.Header().Add("Link", `<https://evil.example/a,b>; rel="prev sunset"`)
			w.Write([]byte("hi"))
		},
		"sets the header": func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Sunset"] = []string{"a", "b"}
			w.Header().Add("Link", `<https://app.example/2>; rel="next"`)
			w.WriteHeader(201)
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(g.Wrap(app))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/feed")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Values("Sunset"); len(got) != 1 || got[0] != sunsetAt.Format(http.TimeFormat) {
				t.Errorf("Sunset headers %q, want only the gate's", got)
			}
			links := resp.Header.Values("Link")
			want := map[string]bool{`<https://example.com/bye>; rel="sunset"`: true, `<https://app.example/2>; rel="next"`: true}
			if len(links) != 2 || !want[links[0]] || !want[links[1]] {
				t.Errorf("Link headers %q, want the gate's sunset link and the app's next link", links)
			}
		})
	}
}

// TestGatePathOverrides: a path-override header (Symfony, IIS) counts like
// a method override: the gate refuses if it would refuse any of the paths.
func TestGatePathOverrides(t *testing.T) {
	clk := newClock(testReadOnlyAt.Add(-time.Hour))
	g := newTestGate(t, &fakeSource{state: blocked}, clk)
	with := func(name, method, target, header, value string, status int, code string) gateCase {
		return gateCase{name: name, method: method, target: target, header: map[string]string{header: value},
			status: status, code: code, headers: true}
	}
	var cases []gateCase
	for _, h := range pathOverrides {
		cases = append(cases,
			with(h+" sign-up", "POST", "/feed", h, "/signup", 410, "signups_closed"),
			with(h+" other spelling", "POST", "/feed", h, "/SignUp/?x=1", 410, "signups_closed"),
			with(h+" absolute URL", "POST", "/feed", h, "http://app.example.com/sign%75p", 410, "signups_closed"),
			with(h+" without slash", "POST", "/feed", h, "signup", 410, "signups_closed"),
			with(h+" control character", "GET", "/feed", h, "/signup%0a", 400, "bad_path"),
			with(h+" harmless", "POST", "/feed", h, "/posts", 200, ""),
		)
	}
	runGateCases(t, g, cases)

	clk.set(testReadOnlyAt)
	runGateCases(t, g, []gateCase{
		with("allowed route, other path", "POST", "/login", "X-Original-URL", "/posts/1", 410, "read_only"),
		with("allowed route, same path", "POST", "/login", "X-Rewrite-URL", "/login?next=/", 200, ""),
	})
}
