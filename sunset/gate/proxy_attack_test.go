package gate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
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

	"golang.org/x/net/http2"
	//lint:ignore SA1019 the upstream must accept "Upgrade: h2c", which only x/net's h2c does; net/http's own h2c is prior-knowledge only
	"golang.org/x/net/http2/h2c"
	"golang.org/x/net/http2/hpack"
)

// h2cApp is a real app on loopback that accepts h2c (upgrade and prior
// knowledge) and WebSocket-style upgrades, and records every request that
// reaches it, HTTP/2 ones included.
type h2cApp struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func startH2CApp(t *testing.T) *h2cApp {
	a := &h2cApp{}
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, r.Proto+" "+r.Method+" "+r.URL.Path)
		a.mu.Unlock()
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			brw.Flush()
			line, _ := brw.ReadString('\n')
			conn.Write([]byte("echo " + line))
			return
		}
		w.Header().Set("Sunset", "Thu, 01 Jan 2099 00:00:00 GMT")
		w.Header().Add("Link", `<https://evil.example/>; rel="sunset", <https://app.example/2>; rel="next"`)
		io.WriteString(w, "app")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 as above: an upstream that takes an h2c upgrade is the attack this test makes
	h2 := h2c.NewHandler(mux, &http2.Server{})
	// Like servers that take any "Upgrade: h2c", not only one that also
	// lists HTTP2-Settings in Connection (which a proxy drops as hop-by-hop).
	lenient := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "h2c") {
			r.Header.Set("Connection", "Upgrade, HTTP2-Settings")
			if len(r.Header.Values("HTTP2-Settings")) != 1 {
				r.Header.Set("HTTP2-Settings", "")
			}
		}
		h2.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: lenient}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	a.addr = ln.Addr().String()
	return a
}

func (a *h2cApp) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// startGatedProxy runs ServeProxy, the code path of `signups gate`, in
// front of app with the gate reading src.
func startGatedProxy(t *testing.T, app string, src Source, opts Options) string {
	ctx, cancel := context.WithCancel(context.Background())
	g := New(src, opts)
	if err := g.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse("http://" + app)
	served := make(chan error, 1)
	go func() { served <- ServeProxy(ctx, ln, up, g, time.Second) }()
	t.Cleanup(func() { cancel(); <-served })
	return ln.Addr().String()
}

// h2SignupFrames is an HTTP/2 client preface and a POST /signup on stream 3.
func h2SignupFrames(t *testing.T) []byte {
	var hb, out bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":authority", "app.example.com"},
		{":path", "/signup"}, {"content-type", "application/json"}, {"content-length", "2"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	out.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&out, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: hb.Bytes(), EndHeaders: true})
	fr.WriteData(3, true, []byte("{}"))
	return out.Bytes()
}

// drain reads what the proxy sends until it closes the connection or
// the deadline passes, so that anything tunnelled has reached the app.
func drain(conn net.Conn, r io.Reader) {
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	io.Copy(io.Discard, r)
}

// TestProxyRefusesH2CTunnels: an HTTP/2 POST /signup inside an h2c upgrade
// or after a prior-knowledge preface never reaches an app that speaks h2c,
// with sign-ups blocked and in read-only mode.
func TestProxyRefusesH2CTunnels(t *testing.T) {
	settings := base64.RawURLEncoding.EncodeToString([]byte{0, 3, 0, 0, 0, 100})
	for _, mode := range []struct {
		name string
		st   State
	}{
		{"signups blocked", State{Blocked: true, SunsetAt: sunsetAt}},
		{"read-only", State{Blocked: false, SunsetAt: sunsetAt, ReadOnlyAt: testReadOnlyAt}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			app := startH2CApp(t)
			addr := startGatedProxy(t, app.addr, &fakeSource{state: mode.st}, Options{
				ReadOnlyAllow: routes(t, "POST /login"), Now: newClock(testReadOnlyAt.Add(time.Hour)).now})
			for _, up := range []string{"h2c", "H2C", "websocket, h2c", "h2c, websocket"} {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
					"Upgrade: %s\r\nHTTP2-Settings: %s\r\n\r\n", up, settings)
				br := bufio.NewReader(conn)
				conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("Upgrade %s: %v", up, err)
				}
				if resp.StatusCode == http.StatusSwitchingProtocols {
					t.Errorf("Upgrade %s: the proxy switched protocols", up)
				}
				io.Copy(io.Discard, resp.Body)
				conn.Write(h2SignupFrames(t))
				drain(conn, br)
				conn.Close()
			}
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write(h2SignupFrames(t))
			drain(conn, conn)
			conn.Close()
			for _, req := range app.requests() {
				if strings.Contains(req, "signup") || strings.HasPrefix(req, "HTTP/2") || strings.Contains(req, "PRI") {
					t.Errorf("reached the app through the proxy: %s", req)
				}
			}
		})
	}
}

// TestProxyWebSocketPolicy: a WebSocket passes where the gate lets it
// through (the 101 and the bytes after it), and is refused on a sign-up
// route while sign-ups are blocked and after read-only unless allowed.
func TestProxyWebSocketPolicy(t *testing.T) {
	app := startH2CApp(t)
	src := &fakeSource{state: blocked}
	clk := newClock(testReadOnlyAt.Add(-time.Hour))
	addr := startGatedProxy(t, app.addr, src, Options{ReadOnlyAllow: routes(t, "WEBSOCKET /live"), Now: clk.now})
	open := func(target string) (int, string) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", target)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			return resp.StatusCode, ""
		}
		io.WriteString(conn, "ping\n")
		line, _ := br.ReadString('\n')
		return resp.StatusCode, line
	}
	if code, echo := open("/feed"); code != 101 || echo != "echo ping\n" {
		t.Errorf("WebSocket on an open route: %d %q", code, echo)
	}
	if code, _ := open("/signup"); code != 410 {
		t.Errorf("WebSocket on the sign-up route while blocked: %d", code)
	}
	clk.set(testReadOnlyAt)
	if code, _ := open("/feed"); code != 410 {
		t.Errorf("WebSocket on a route not allowed after read-only: %d", code)
	}
	if code, echo := open("/live"); code != 101 || echo != "echo ping\n" {
		t.Errorf("WebSocket on an allowed route after read-only: %d %q", code, echo)
	}
	if got, want := strings.Join(app.requests(), ", "), "HTTP/1.1 GET /feed, HTTP/1.1 GET /live"; got != want {
		t.Errorf("the app saw %s, want %s", got, want)
	}
}

// TestProxyOddBytesAndHeaders: control characters in the path are refused
// before the app, and the upstream's own Sunset and rel="sunset" Link are
// replaced by the gate's.
func TestProxyOddBytesAndHeaders(t *testing.T) {
	app := startH2CApp(t)
	addr := startGatedProxy(t, app.addr, &fakeSource{state: blocked}, Options{Now: newClock(testReadOnlyAt.Add(-time.Hour)).now})
	for _, target := range []string{"/feed%0a", "/feed%0d", "/feed%0b", "/feed%0c", "/feed%09", "/feed%00", "/feed%7f",
		"/signup%250a", "/feed%2500", "/feed%0d%0aX:1", "/feed\x01", "/feed\x7f"} {
		if code, _ := rawRequest(t, addr, "GET", target); code != 400 {
			t.Errorf("GET %q through the proxy = %d, want 400", target, code)
		}
	}
	if got := app.requests(); len(got) != 0 {
		t.Fatalf("paths with control characters reached the app: %v", got)
	}
	code, h := rawRequest(t, addr, "GET", "/feed")
	if code != 200 {
		t.Fatalf("GET /feed = %d", code)
	}
	if got := h.Values("Sunset"); len(got) != 1 || got[0] != sunsetAt.Format(http.TimeFormat) {
		t.Errorf("Sunset headers %q, want exactly the gate's", got)
	}
	if got := h.Values("Link"); len(got) != 2 || strings.Contains(strings.Join(got, " "), "evil") {
		t.Errorf("Link headers %q, want the gate's sunset link and the app's next link", got)
	}
}

// TestProxyStatusDocument: the proxy answers the status document itself.
func TestProxyStatusDocument(t *testing.T) {
	app := startH2CApp(t)
	addr := startGatedProxy(t, app.addr, &fakeSource{state: blocked}, Options{StatusPath: "/.well-known/sunset.json"})
	for _, m := range []string{"GET", "HEAD", "POST"} {
		code, h := rawRequest(t, addr, m, "/.well-known/sunset.json")
		if want := map[string]int{"GET": 200, "HEAD": 200, "POST": 405}[m]; code != want || h.Get("Sunset") == "" {
			t.Errorf("%s status document through the proxy = %d, want %d", m, code, want)
		}
	}
	resp, err := http.Get("http://" + addr + "/.well-known/sunset.json")
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || !st.SignupsBlocked || st.Sunset == nil || !st.Sunset.Equal(sunsetAt) || st.InfoURL != blocked.InfoURL {
		t.Errorf("status through the proxy: %+v, %v", st, err)
	}
	if got := app.requests(); len(got) != 0 {
		t.Errorf("the status document reached the app: %v", got)
	}
}

// TestProxyMethodOverrides: through the proxy, an override in a header, the
// query or a form body never takes a DELETE through a "POST /x" entry after
// read-only, and an allowed form reaches the app whole.
func TestProxyMethodOverrides(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
	}))
	defer app.Close()
	addr := startGatedProxy(t, strings.TrimPrefix(app.URL, "http://"), &fakeSource{state: blocked},
		Options{ReadOnlyAllow: routes(t, "POST /x"), Now: newClock(testReadOnlyAt).now})
	send := func(target, header, body string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if k, v, ok := strings.Cut(header, ": "); ok {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, h := range []string{"X-HTTP-Method-Override: DELETE", "X-HTTP-Method: PUT", "X-Method-Override: PATCH"} {
		if code := send("/x", h, "a=1"); code != 410 {
			t.Errorf("%s through POST /x: %d", h, code)
		}
	}
	if code := send("/x?_method=DELETE", "", "a=1"); code != 410 {
		t.Errorf("_method query through POST /x: %d", code)
	}
	if code := send("/x", "", "a=1&_method=DELETE"); code != 410 {
		t.Errorf("_method form field through POST /x: %d", code)
	}
	if code := send("/x", "", "a=1&b=2"); code != 200 {
		t.Errorf("plain form POST /x: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, "|") != "POST /x a=1&b=2" {
		t.Errorf("the app saw %q, want only the plain form, whole", seen)
	}
}
