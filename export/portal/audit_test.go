package portal

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// auditLog collects the downloads a portal reports.
type auditLog struct {
	mu  sync.Mutex
	got []Download
}

func (a *auditLog) record(_ context.Context, d Download) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, d)
	return nil
}

// take returns what was recorded since the last take.
func (a *auditLog) take() []Download {
	a.mu.Lock()
	defer a.mu.Unlock()
	got := a.got
	a.got = nil
	return got
}

// auditedPortal serves the portal over dst, recording downloads in log;
// wait returns once the handler has returned from one more request (the
// audit runs after the last byte, so after the client may have it all).
func auditedPortal(t *testing.T, dst blob.Store, log *auditLog) (srv *httptest.Server, wait func()) {
	h, err := New(dst, Options{Signer: testSigner(t), Rate: 1000, Burst: 1000, OnDownload: log.record})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, 1)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		done <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return srv, func() {
		t.Helper()
		select {
		case <-done:
		case <-time.After(time.Minute): // a bound on a hang, not a timing check
			t.Fatal("the handler did not return")
		}
	}
}

// TestAuditCountsDownloads: a download is recorded when a response
// serves the part's last byte, with the bytes it served; probes, HEADs,
// 304s, unsatisfiable and multi-range requests are not downloads.
func TestAuditCountsDownloads(t *testing.T) {
	dst := localExport(t, export.Options{})
	var log auditLog
	srv, wait := auditedPortal(t, dst, &log)
	tok := validToken(t, "frank")
	u := srv.URL + "/u/frank/parts/1?token=" + tok
	p := manifest(t, dst, "frank").Parts[0]
	size := p.Size
	full := &Download{From: 0, Served: size}
	for _, tc := range []struct {
		name   string
		method string
		header []string
		status int
		want   *Download // nil: not a download
	}{
		{"whole part", "GET", nil, 200, full},
		{"Range from the start", "GET", []string{"Range", "bytes=0-"}, 206, full},
		{"Range over all of it", "GET", []string{"Range", fmt.Sprintf("bytes=0-%d", size-1)}, 206, full},
		{"one-byte probe", "GET", []string{"Range", "bytes=0-0"}, 206, nil},
		{"first hundred bytes", "GET", []string{"Range", "bytes=0-99"}, 206, nil},
		{"up to the byte before the last", "GET", []string{"Range", fmt.Sprintf("bytes=0-%d", size-2)}, 206, nil},
		{"resumed to the end", "GET", []string{"Range", "bytes=100-"}, 206, &Download{From: 100, Served: size - 100}},
		{"the last ten bytes", "GET", []string{"Range", "bytes=-10"}, 206, &Download{From: size - 10, Served: 10}},
		{"multi-range", "GET", []string{"Range", "bytes=0-0,100-"}, 206, nil},
		{"past the end", "GET", []string{"Range", fmt.Sprintf("bytes=%d-", size)}, 416, nil},
		{"HEAD", "HEAD", nil, 200, nil},
		{"not modified", "GET", []string{"If-None-Match", `"` + p.SHA256 + `"`}, 304, nil},
		{"stale If-Range gets it all", "GET", []string{"Range", "bytes=0-9", "If-Range", `"0000"`}, 200, full},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, u, tc.header...)
			wait()
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			got := log.take()
			if tc.want == nil {
				if len(got) != 0 {
					t.Fatalf("recorded %+v, want nothing", got)
				}
				return
			}
			want := Download{User: "frank", Part: 1, Parts: 1, Key: p.Key, Bytes: size, Via: ViaStream, From: tc.want.From, Served: tc.want.Served}
			if len(got) != 1 || got[0] != want {
				t.Fatalf("recorded %+v, want %+v", got, want)
			}
			if strings.Contains(fmt.Sprintf("%+v %s", got[0], got[0].Detail()), tok) {
				t.Fatal("a download event holds the token")
			}
		})
	}
	get(t, srv.URL+"/u/frank?token="+tok)
	wait()
	get(t, srv.URL+"/u/frank/parts/1?token=bad")
	wait()
	if got := log.take(); len(got) != 0 {
		t.Fatalf("the page or a refused token recorded %+v", got)
	}
}

// bigPart makes frank's only part a 64 MiB (sparse) file, more than the
// loopback socket buffers hold, so a client that stops reading leaves the
// server with bytes it cannot write.
func bigPart(t *testing.T) (blob.Store, export.PartRecord) {
	dir := t.TempDir()
	dst, err := blob.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	exportSample(t, dst, export.Options{})
	m := manifest(t, dst, "frank")
	m.Parts[0].Size = 64 << 20
	if err := os.Truncate(filepath.Join(dir, filepath.FromSlash(m.Parts[0].Key)), m.Parts[0].Size); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "frank", export.ManifestName), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst, m.Parts[0]
}

// TestAuditClientGoesAway: a client that disconnects mid-body is not a
// download; the same client reading to the end is.
func TestAuditClientGoesAway(t *testing.T) {
	dst, p := bigPart(t)
	var log auditLog
	srv, wait := auditedPortal(t, dst, &log)
	path := "/u/frank/parts/1?token=" + validToken(t, "frank")

	for _, rg := range []string{"", "bytes=0-", "bytes=100-"} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: portal\r\n", path)
		if rg != "" {
			fmt.Fprintf(conn, "Range: %s\r\n", rg)
		}
		fmt.Fprintf(conn, "\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("Range %q: %v %v", rg, resp, err)
		}
		if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
			t.Fatal(err)
		}
		conn.Close() // mid-body: 63 MiB still to come
		wait()
		if got := log.take(); len(got) != 0 {
			t.Fatalf("Range %q: a download the client abandoned was recorded: %+v", rg, got)
		}
	}

	r := do(t, http.MethodGet, srv.URL+path)
	wait()
	if int64(len(r.body)) != p.Size {
		t.Fatalf("read %d bytes, want %d", len(r.body), p.Size)
	}
	if got := log.take(); len(got) != 1 || got[0].Served != p.Size || got[0].From != 0 {
		t.Fatalf("the full download recorded %+v, want one of %d bytes", got, p.Size)
	}
}
