package portal

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
)

// TestForbiddenIsOnePage: every refused token, on every route, gets the
// same 403 with the same bytes, so nothing tells which check failed or
// whether the user exists.
func TestForbiddenIsOnePage(t *testing.T) {
	dst := localExport(t, export.Options{})
	srv := startPortal(t, dst, Options{Rate: 1000, Burst: 1000})
	s := testSigner(t)
	good := validToken(t, "alice")
	exp, mac, _ := strings.Cut(good, ".")
	tampered := []byte(good)
	tampered[len(tampered)-3] ^= 1
	tokens := map[string]string{
		"tampered":        string(tampered),
		"tampered expiry": exp[:len(exp)-1] + string('0'+(exp[len(exp)-1]-'0'+1)%10) + "." + mac,
		"expired":         s.Sign("alice", time.Now().Add(-time.Minute)),
		"other user's":    validToken(t, "bob_1"),
		"truncated":       good[:len(good)/2],
		"empty":           "",
		"garbage":         "%00%ff<script>",
		"other secret":    mustSigner(t, bytes.Repeat([]byte{7}, 32)).Sign("alice", time.Now().Add(time.Hour)),
	}
	var first []byte
	check := func(name, rawURL string) {
		t.Helper()
		r := get(t, rawURL)
		if r.status != http.StatusForbidden {
			t.Fatalf("%s: %s: status %d, want 403", name, rawURL, r.status)
		}
		if first == nil {
			first = r.body
		}
		if !bytes.Equal(r.body, first) {
			t.Fatalf("%s: 403 body differs from the others:\n%s\n---\n%s", name, r.body, first)
		}
		if r.header.Get("Content-Security-Policy") == "" || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: security headers missing: %v", name, r.header)
		}
	}
	for name, tok := range tokens {
		q := "?token=" + tok // "garbage" is already escaped; the others are URL-safe
		for _, route := range []string{"/u/alice", "/u/alice/parts/1", "/u/alice/SHA256SUMS"} {
			check(name, srv.URL+route+q)
		}
	}
	check("no token at all", srv.URL+"/u/alice")
	check("unknown user", userURL(srv, "nobody", good))
	check("invalid user id", srv.URL+"/u/bad%20id?token="+good)
	check("slash in user id", srv.URL+"/u/..%2Falice?token="+good)
	check("too long user id", userURL(srv, strings.Repeat("a", 65), good))
	// The page may say what could be wrong in general, never what was.
	for _, word := range []string{"signature", "malformed", "alice", "bob", "user"} {
		if bytes.Contains(bytes.ToLower(first), []byte(word)) {
			t.Errorf("403 page mentions %q", word)
		}
	}
}

func mustSigner(t testing.TB, secret []byte) *Signer {
	s, err := NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var partLink = regexp.MustCompile(`<a class="part" href="([^"]+)"`)

// TestUserPage: the page names the user, counts the broadcasts and links
// every part with its size and checksum, escaping what users typed.
func TestUserPage(t *testing.T) {
	dst := localExport(t, export.Options{MaxPartSize: 40 << 10})
	srv := startPortal(t, dst, Options{})
	for user, name := range map[string]string{
		"alice":    "Alice Example",
		"dave42":   `Dave & "Friends" <3`,
		"zoe-aero": "Zoë Ærø 🎥 テスト",
		"carol":    "Carol Nobroadcasts",
	} {
		t.Run(user, func(t *testing.T) {
			m := manifest(t, dst, user)
			r := get(t, userURL(srv, user, validToken(t, user)))
			if r.status != http.StatusOK {
				t.Fatalf("status %d\n%s", r.status, r.body)
			}
			page := string(r.body)
			if !strings.Contains(page, `<span class="name">`+html.EscapeString(name)+`</span>`) {
				t.Errorf("display name %q not shown (escaped):\n%s", name, page)
			}
			if !strings.Contains(page, fmt.Sprintf(`<span id="broadcast-count">%d</span>`, m.Broadcasts)) {
				t.Errorf("broadcast count %d not shown", m.Broadcasts)
			}
			links := partLink.FindAllStringSubmatch(page, -1)
			if len(links) != len(m.Parts) {
				t.Fatalf("%d part links, manifest has %d parts", len(links), len(m.Parts))
			}
			for i, p := range m.Parts {
				if !strings.Contains(page, p.SHA256) || !strings.Contains(page, path.Base(p.Key)) {
					t.Errorf("part %s: name or sha256 missing", p.Key)
				}
				want := fmt.Sprintf("%s/parts/%d?token=", user, i+1)
				if !strings.HasPrefix(html.UnescapeString(links[i][1]), want) {
					t.Errorf("part link %q, want %s...", links[i][1], want)
				}
			}
			for _, s := range []string{`<html lang="en">`, "<h1>", "<caption>", `<th scope="col">`,
				"sha256sum", "shasum -a 256", "periscope-sunset verify --dest", "index.html", "<time datetime="} {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			checkHeaders(t, r.header)
		})
	}
}

func checkHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"Content-Type":           "text/html; charset=utf-8",
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.HasPrefix(csp, "default-src 'none'; style-src 'sha256-") || strings.Contains(csp, "http") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

// TestNotReady: a good token for a user whose export has not finished
// gets the friendly page, with 404.
func TestNotReady(t *testing.T) {
	dst := localExport(t, export.Options{})
	srv := startPortal(t, dst, Options{})
	for _, route := range []string{"/u/nobody", "/u/nobody/parts/1", "/u/nobody/SHA256SUMS"} {
		r := get(t, srv.URL+route+"?token="+validToken(t, "nobody"))
		if r.status != http.StatusNotFound || !bytes.Contains(r.body, []byte("not ready yet")) {
			t.Fatalf("%s: status %d\n%s", route, r.status, r.body)
		}
	}
}

// TestLocalDownload: on a local folder, parts stream with Range support
// and the bytes are the manifest's.
func TestLocalDownload(t *testing.T) {
	dst := localExport(t, export.Options{MaxPartSize: 40 << 10})
	srv := startPortal(t, dst, Options{Rate: 1000, Burst: 1000})
	m := manifest(t, dst, "alice")
	if len(m.Parts) < 2 {
		t.Fatalf("want alice in several parts, got %d", len(m.Parts))
	}
	tok := validToken(t, "alice")
	for i, p := range m.Parts {
		u := fmt.Sprintf("%s/u/alice/parts/%d?token=%s", srv.URL, i+1, tok)
		r := get(t, u)
		if r.status != http.StatusOK || sha256Hex(r.body) != p.SHA256 || int64(len(r.body)) != p.Size {
			t.Fatalf("part %d: status %d, %d bytes sha256 %s; manifest %d bytes %s",
				i+1, r.status, len(r.body), sha256Hex(r.body), p.Size, p.SHA256)
		}
		if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="`+path.Base(p.Key)+`"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if r.header.Get("ETag") != `"`+p.SHA256+`"` || r.header.Get("Accept-Ranges") != "bytes" {
			t.Errorf("ETag %q Accept-Ranges %q", r.header.Get("ETag"), r.header.Get("Accept-Ranges"))
		}
		// A resumed download: the middle, then the tail.
		rg := get(t, u, "Range", "bytes=100-1099")
		if rg.status != http.StatusPartialContent || !bytes.Equal(rg.body, r.body[100:1100]) ||
			rg.header.Get("Content-Range") != fmt.Sprintf("bytes 100-1099/%d", p.Size) {
			t.Fatalf("part %d: Range 100-1099: status %d, %d bytes, Content-Range %q",
				i+1, rg.status, len(rg.body), rg.header.Get("Content-Range"))
		}
		tail := get(t, u, "Range", "bytes=-10")
		if tail.status != http.StatusPartialContent || !bytes.Equal(tail.body, r.body[len(r.body)-10:]) {
			t.Fatalf("part %d: suffix range: status %d", i+1, tail.status)
		}
		// If-Range with a stale ETag gets the whole file again.
		stale := get(t, u, "Range", "bytes=0-9", "If-Range", `"0000"`)
		if stale.status != http.StatusOK || int64(len(stale.body)) != p.Size {
			t.Fatalf("part %d: stale If-Range: status %d, %d bytes", i+1, stale.status, len(stale.body))
		}
		head := do(t, http.MethodHead, u)
		if head.status != http.StatusOK || head.header.Get("Content-Length") != strconv.FormatInt(p.Size, 10) {
			t.Fatalf("HEAD: status %d, Content-Length %q", head.status, head.header.Get("Content-Length"))
		}
	}
	for _, n := range []string{"0", strconv.Itoa(len(m.Parts) + 1), "01", "x", "-1"} {
		if r := get(t, srv.URL+"/u/alice/parts/"+n+"?token="+tok); r.status != http.StatusNotFound {
			t.Errorf("part %q: status %d, want 404", n, r.status)
		}
	}
	sums := get(t, srv.URL+"/u/alice/SHA256SUMS?token="+tok)
	var want strings.Builder
	for _, p := range m.Parts {
		fmt.Fprintf(&want, "%s  %s\n", p.SHA256, path.Base(p.Key))
	}
	if sums.status != http.StatusOK || string(sums.body) != want.String() {
		t.Fatalf("SHA256SUMS: status %d\n%s\nwant\n%s", sums.status, sums.body, want.String())
	}
}

// TestRateLimit: a burst beyond the limit gets 429 with Retry-After, per
// client; /healthz is never limited.
func TestRateLimit(t *testing.T) {
	dst := localExport(t, export.Options{})
	now := time.Now()
	clock := func() time.Time { return now } // frozen: no token comes back
	srv := startPortal(t, dst, Options{Rate: 1, Burst: 5, Now: clock,
		TrustedProxies: mustPrefixes("127.0.0.0/8", "::1/128")})
	u := userURL(srv, "alice", testSigner(t).Sign("alice", now.Add(time.Hour)))
	for i := range 5 {
		if r := get(t, u); r.status != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, r.status)
		}
	}
	r := get(t, u)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Fatalf("6th request: status %d Retry-After %q, want 429 and 1", r.status, r.header.Get("Retry-After"))
	}
	if !bytes.Contains(r.body, []byte("Too many requests")) {
		t.Errorf("429 page:\n%s", r.body)
	}
	if r := get(t, srv.URL+"/healthz"); r.status != http.StatusOK || string(r.body) != "ok\n" {
		t.Fatalf("/healthz while limited: %d %q", r.status, r.body)
	}
	// Another client behind the trusted proxy has its own bucket.
	if r := get(t, u, "X-Forwarded-For", "203.0.113.9"); r.status != http.StatusOK {
		t.Fatalf("another client: status %d", r.status)
	}
}

func mustPrefixes(s ...string) []netipPrefix {
	var ps []netipPrefix
	for _, v := range s {
		ps = append(ps, mustPrefix(v))
	}
	return ps
}

func TestClientKey(t *testing.T) {
	trusted := mustPrefixes("10.0.0.0/8")
	cases := []struct {
		name, remote, xff, want string
	}{
		{"direct", "198.51.100.7:5555", "", "198.51.100.7"},
		{"direct ignores XFF", "198.51.100.7:5555", "1.2.3.4", "198.51.100.7"},
		{"via trusted proxy", "10.1.2.3:80", "203.0.113.5", "203.0.113.5"},
		{"spoofed left hop ignored", "10.1.2.3:80", "1.1.1.1, 203.0.113.5", "203.0.113.5"},
		{"chain of trusted proxies", "10.1.2.3:80", "203.0.113.5, 10.9.9.9", "203.0.113.5"},
		{"broken header", "10.1.2.3:80", "nonsense", "10.1.2.3"},
		{"ipv6 grouped by /64", "[2001:db8:1:2:aaaa::1]:443", "", "2001:db8:1:2::/64"},
		{"ipv4-mapped", "[::ffff:198.51.100.7]:1", "", "198.51.100.7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if got := clientKey(r, trusted); got != c.want {
				t.Fatalf("clientKey = %q, want %q", got, c.want)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	dst := localExport(t, export.Options{})
	srv := startPortal(t, dst, Options{})
	for route, status := range map[string]int{
		"/":             http.StatusOK,
		"/healthz":      http.StatusOK,
		"/nothing":      http.StatusNotFound,
		"/u/":           http.StatusNotFound,
		"/favicon.ico":  http.StatusNotFound,
		"/u/alice/more": http.StatusNotFound,
	} {
		r := get(t, srv.URL+route)
		if r.status != status {
			t.Errorf("%s: status %d, want %d", route, r.status, status)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no security headers", route)
		}
	}
	if r := do(t, http.MethodPost, userURL(srv, "alice", validToken(t, "alice"))); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", r.status)
	}
}
