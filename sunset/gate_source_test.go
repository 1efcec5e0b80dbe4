package sunset

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/sunset/gate"
)

// upstream is a real app on loopback that records what reached it.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func startUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.seen = append(u.seen, r.Method+" "+r.URL.RequestURI())
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"upstream": "yes", "path": r.URL.Path, "body": string(body),
			"xff": r.Header.Get("X-Forwarded-For")})
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// rawRequest sends one request line byte for byte, so no client library
// cleans the path first, and returns the status and headers.
func rawRequest(t *testing.T, addr, method, target string) (int, http.Header) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: app.example.com\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", method, target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestProxyEndToEnd runs the gated reverse proxy on loopback in front of a
// real upstream, with its state in a real store (through GateSource)
// changed while it runs.
func TestProxyEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app := startUpstream(t)
	st, _ := blob.NewFile(t.TempDir())
	s := Open(st, Options{Actor: "ana"})
	signups, err := gate.ParseRoutes([]string{"POST /signup"})
	if err != nil {
		t.Fatal(err)
	}
	g := gate.New(s.GateSource(), gate.Options{SignupRoutes: signups, Refresh: 20 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse(app.URL)
	served := make(chan error, 1)
	go func() { served <- gate.ServeProxy(ctx, ln, up, g, time.Second) }()
	addr := ln.Addr().String()
	waitFor(t, func() bool { _, ok := g.State(); return ok })

	// Open: sign-ups reach the app, with the body and X-Forwarded-For.
	resp, err := http.Post("http://"+addr+"/signup?ref=x", "application/json", strings.NewReader(`{"u":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	var echo map[string]string
	json.NewDecoder(resp.Body).Decode(&echo)
	resp.Body.Close()
	if resp.StatusCode != 200 || echo["upstream"] != "yes" || echo["body"] != `{"u":"a"}` || echo["xff"] != "127.0.0.1" {
		t.Fatalf("open sign-up through the proxy: %d %v", resp.StatusCode, echo)
	}
	if resp.Header.Get("Sunset") != "" {
		t.Errorf("Sunset header before any sunset date: %q", resp.Header.Get("Sunset"))
	}

	when := time.Date(2027, 3, 31, 7, 0, 0, 0, time.UTC)
	if _, err := s.Block(ctx, BlockRequest{Reason: "closing", InfoURL: "https://example.com/bye", SunsetDate: when}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { st, _ := g.State(); return st.Blocked })
	before := len(app.requests())
	for _, target := range []string{"/signup", "/SignUp/", "//signup", "/./signup", "/x/../signup", "/%73ignup",
		"/%2573ignup", "/signup?a=1", "/signup;x", "/signup.json"} {
		for _, method := range []string{"POST", "post"} {
			code, h := rawRequest(t, addr, method, target)
			if code != http.StatusGone {
				t.Errorf("%s %s through the proxy = %d, want 410", method, target, code)
			}
			if d, err := http.ParseTime(h.Get("Sunset")); err != nil || !d.Equal(when) {
				t.Errorf("%s %s: Sunset %q (%v)", method, target, h.Get("Sunset"), err)
			}
		}
	}
	if got := app.requests()[before:]; len(got) != 0 {
		t.Fatalf("blocked sign-ups reached the app: %v", got)
	}
	// Other routes still reach the app, and carry the headers.
	code, h := rawRequest(t, addr, "GET", "/feed")
	if code != 200 || h.Get("Link") != `<https://example.com/bye>; rel="sunset"` || h.Get("Sunset") != when.Format(http.TimeFormat) {
		t.Fatalf("GET /feed = %d, headers %v", code, h)
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("ServeProxy after shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeProxy did not shut down")
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
