package gate

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// statusGet asks h for target with method and headers.
func statusGet(h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestGateStatusDocument: the gate answers its status document itself,
// cacheable and the same for every client, and never passes it on.
func TestGateStatusDocument(t *testing.T) {
	since := time.Date(2027, 2, 28, 17, 2, 11, 500, time.UTC)
	src := &fakeSource{state: State{Blocked: true, BlockedSince: since, Reason: "Periscope is shutting down.",
		InfoURL: "https://example.com/bye", SunsetAt: sunsetAt, ReadOnlyAt: testReadOnlyAt}}
	g := New(src, Options{Refresh: 45 * time.Second, Now: newClock(testReadOnlyAt.Add(time.Hour)).now})
	h := g.Wrap(okHandler)

	if rec := statusGet(h, "GET", "/sunset.json", nil); rec.Code != 503 || rec.Header().Get("X-App") != "" ||
		rec.Header().Get("Retry-After") != "45" {
		t.Fatalf("status before the state is known: %d %v", rec.Code, rec.Header())
	}
	if err := g.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec := statusGet(h, "GET", "/sunset.json", nil)
	if rec.Code != 200 || rec.Header().Get("X-App") != "" {
		t.Fatalf("GET /sunset.json = %d, app %q", rec.Code, rec.Header().Get("X-App"))
	}
	want := `{"signups_blocked":true,"since":"2027-02-28T17:02:11Z","sunset":"2027-07-06T07:00:00Z",` +
		`"read_only_at":"2027-03-31T07:00:00Z","info_url":"https://example.com/bye",` +
		`"message":"New accounts can no longer be created. Periscope is shutting down."}` + "\n"
	if rec.Body.String() != want {
		t.Fatalf("status body\n%s\nwant\n%s", rec.Body, want)
	}
	etag := rec.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 || rec.Header().Get("Cache-Control") != "public, max-age=45" ||
		!strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status headers %v", rec.Header())
	}
	checkSunsetHeaders(t, rec.Header(), true)

	// The same bytes and tag for every client, whatever it sends.
	other := statusGet(h, "GET", "/sunset.json?v=2", map[string]string{"Cookie": "session=x", "Accept-Language": "ja",
		"Authorization": "Bearer y", "X-HTTP-Method-Override": "DELETE", "Upgrade": "h2c", "Connection": "Upgrade"})
	if other.Code != 200 || other.Body.String() != want || other.Header().Get("ETag") != etag || other.Header().Get("Vary") != "" {
		t.Errorf("another client got %d %q %v", other.Code, other.Body, other.Header())
	}
	for _, inm := range []string{etag, "W/" + etag, `"x", ` + etag, "*"} {
		rec := statusGet(h, "GET", "/sunset.json", map[string]string{"If-None-Match": inm})
		if rec.Code != 304 || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %q", inm, rec.Code, rec.Body)
		}
	}
	if rec := statusGet(h, "GET", "/sunset.json", map[string]string{"If-None-Match": `"stale"`}); rec.Code != 200 {
		t.Errorf("stale If-None-Match: %d", rec.Code)
	}
	head := statusGet(h, "HEAD", "/sunset.json", nil)
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("ETag") != etag || head.Header().Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Errorf("HEAD: %d %q %v", head.Code, head.Body, head.Header())
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		rec := statusGet(h, m, "/sunset.json", nil)
		if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" || rec.Header().Get("X-App") != "" {
			t.Errorf("%s /sunset.json: %d %v", m, rec.Code, rec.Header())
		}
	}

	// Sign-ups open again: a new document and a new tag.
	src.set(State{InfoURL: "https://example.com/bye", SunsetAt: sunsetAt}, nil)
	if err := g.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	rec = statusGet(h, "GET", "/sunset.json", map[string]string{"If-None-Match": etag})
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("after the change: %d %q %v", rec.Code, rec.Body, err)
	}
	if got["signups_blocked"] != false || got["since"] != nil || got["read_only_at"] != nil || got["message"] != "" ||
		got["sunset"] != "2027-07-06T07:00:00Z" || rec.Header().Get("ETag") == etag {
		t.Errorf("open sign-ups: %v, ETag %s", got, rec.Header().Get("ETag"))
	}
	// A failed refresh keeps the last document.
	src.set(State{}, errors.New("store unreachable"))
	g.Refresh(t.Context())
	if again := statusGet(h, "GET", "/sunset.json", nil); again.Body.String() != rec.Body.String() {
		t.Errorf("after a failed refresh: %q", again.Body)
	}
}

func TestGateStatusPath(t *testing.T) {
	g := New(&fakeSource{state: blocked}, Options{StatusPath: "/api/v1/sunset"})
	if err := g.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(okHandler)
	if rec := statusGet(h, "GET", "/api/v1/sunset", nil); rec.Code != 200 || rec.Header().Get("X-App") != "" {
		t.Errorf("custom status path: %d", rec.Code)
	}
	if rec := statusGet(h, "GET", "/sunset.json", nil); rec.Header().Get("X-App") != "reached" {
		t.Errorf("the default path with another configured: %d", rec.Code)
	}
	for _, p := range []string{"sunset.json", "/s?x", "/s#x", "/s%2e", "/s\n", ""} {
		if CheckStatusPath(p) == nil {
			t.Errorf("CheckStatusPath(%q) accepted", p)
		}
	}
	if err := CheckStatusPath("/.well-known/sunset.json"); err != nil {
		t.Error(err)
	}
}
