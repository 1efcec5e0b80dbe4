package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// testSecret is 32 bytes, the shortest accepted, of base64 from random
// bytes (a patterned one is refused).
var testSecret = []byte("q7Vh2ZkT9xRb4LmWc8NpJ3sYd6GfAe1U")

func testSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// exportSample exports the committed sample archive into dst.
func exportSample(t testing.TB, dst blob.Store, opts export.Options) {
	t.Helper()
	p, err := fixtures.SamplePath()
	if err != nil {
		t.Fatal(err)
	}
	src, err := blob.NewFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := export.Run(context.Background(), src, dst, opts); err != nil {
		t.Fatalf("export the sample: %v", err)
	}
}

// localExport exports the sample into a new folder store.
func localExport(t testing.TB, opts export.Options) *blob.FileStore {
	t.Helper()
	dst, err := blob.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	exportSample(t, dst, opts)
	return dst
}

// startPortal serves the portal over dst on a loopback port.
func startPortal(t testing.TB, dst blob.Store, opts Options) *httptest.Server {
	t.Helper()
	if opts.Signer == nil {
		opts.Signer = testSigner(t)
	}
	h, err := New(dst, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func userURL(srv *httptest.Server, user, token string) string {
	return srv.URL + "/u/" + user + "?token=" + url.QueryEscape(token)
}

func validToken(t testing.TB, user string) string {
	return testSigner(t).Sign(user, time.Now().Add(time.Hour))
}

func manifest(t testing.TB, dst blob.Store, user string) *export.Manifest {
	t.Helper()
	m, err := export.ReadManifest(context.Background(), dst, user)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// noRedirects is a plain client that shows redirects instead of
// following them.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func get(t testing.TB, rawURL string, header ...string) response {
	t.Helper()
	return do(t, http.MethodGet, rawURL, header...)
}

func do(t testing.TB, method, rawURL string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, rawURL, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type netipPrefix = netip.Prefix

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
