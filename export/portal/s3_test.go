package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// TestPresignedRedirects: on S3, a part link answers 302 to a presigned
// URL on the S3 server, which a plain HTTP client fetches to exactly the
// bytes whose sha256 the manifest lists.
func TestPresignedRedirects(t *testing.T) {
	s3srv := s3test.Start(t)
	bucket := s3srv.NewBucket(t)
	dst := s3srv.Store(t, bucket, "exports/2021")
	exportSample(t, dst, export.Options{MaxPartSize: 40 << 10})
	var mu sync.Mutex
	var downloads []Download
	srv := startPortal(t, dst, Options{PresignTTL: 2 * time.Minute, Rate: 1000, Burst: 1000,
		OnDownload: func(_ context.Context, d Download) error {
			mu.Lock()
			defer mu.Unlock()
			downloads = append(downloads, d)
			return nil
		}})
	endpoint, _ := url.Parse(s3srv.Endpoint)

	for _, user := range []string{"alice", "zoe-aero"} {
		m := manifest(t, dst, user)
		tok := validToken(t, user)
		page := get(t, userURL(srv, user, tok))
		if page.status != http.StatusOK || len(partLink.FindAllString(string(page.body), -1)) != len(m.Parts) {
			t.Fatalf("%s: page status %d\n%s", user, page.status, page.body)
		}
		for i, p := range m.Parts {
			r := get(t, fmt.Sprintf("%s/u/%s/parts/%d?token=%s", srv.URL, user, i+1, tok))
			loc, err := url.Parse(r.header.Get("Location"))
			if r.status != http.StatusFound || err != nil || loc.Host != endpoint.Host {
				t.Fatalf("%s part %d: status %d Location %q, want 302 to %s", user, i+1, r.status, r.header.Get("Location"), endpoint.Host)
			}
			q := loc.Query()
			if q.Get("X-Amz-Expires") != "120" || q.Get("X-Amz-Signature") == "" ||
				!strings.HasSuffix(loc.Path, "/"+bucket+"/exports/2021/"+p.Key) {
				t.Fatalf("%s part %d: presigned URL %s", user, i+1, loc)
			}
			if strings.Contains(loc.String(), tok) || r.header.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("the token could leak to S3: %s %v", loc, r.header)
			}
			got := get(t, loc.String())
			if got.status != http.StatusOK || sha256Hex(got.body) != p.SHA256 || int64(len(got.body)) != p.Size {
				t.Fatalf("%s part %d from S3: status %d, %d bytes sha256 %s; manifest %d bytes %s\n%s",
					user, i+1, got.status, len(got.body), sha256Hex(got.body), p.Size, p.SHA256, got.body)
			}
			if cd := got.header.Get("Content-Disposition"); cd != `attachment; filename="`+path.Base(p.Key)+`"` {
				t.Errorf("S3's Content-Disposition %q", cd)
			}
		}
	}
	mu.Lock()
	var first Download
	if len(downloads) > 0 {
		first = downloads[0]
	}
	mu.Unlock()
	if first.Via != ViaRedirect || first.User != "alice" || first.Part != 1 || first.Served != 0 ||
		!strings.Contains(first.Detail(), "not a completed download") {
		t.Fatalf("first download %+v: %s", first, first.Detail())
	}
	// A HEAD hands out no URL worth recording.
	mu.Lock()
	n := len(downloads)
	mu.Unlock()
	do(t, http.MethodHead, fmt.Sprintf("%s/u/alice/parts/1?token=%s", srv.URL, validToken(t, "alice")))
	mu.Lock()
	if len(downloads) != n {
		t.Errorf("a HEAD was recorded: %+v", downloads[n:])
	}
	mu.Unlock()
	// A presigned URL with its signature changed is refused by S3.
	r := get(t, fmt.Sprintf("%s/u/alice/parts/1?token=%s", srv.URL, validToken(t, "alice")))
	bad := strings.Replace(r.header.Get("Location"), "X-Amz-Signature=", "X-Amz-Signature=00", 1)
	if got := get(t, bad); got.status != http.StatusForbidden {
		t.Fatalf("tampered presigned URL: status %d", got.status)
	}
}

// TestPresignLinks: the direct links of `links --presign` fetch the right
// bytes; more than 7 days is refused.
func TestPresignLinks(t *testing.T) {
	s3srv := s3test.Start(t)
	bucket := s3srv.NewBucket(t)
	dst := s3srv.Store(t, bucket, "")
	exportSample(t, dst, export.Options{})
	p := PresignerFor(dst)
	if p == nil {
		t.Fatal("no presigner for an S3 store")
	}
	var rows []PartLink
	err := PresignLinks(context.Background(), dst, p, LinkOptions{TTL: time.Hour, Users: []string{"frank", "nobody", "heidi"},
		NotReady: func(u string) { rows = append(rows, PartLink{UserID: "not ready: " + u}) }},
		func(l PartLink) error { rows = append(rows, l); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].UserID != "frank" || rows[1].UserID != "not ready: nobody" || rows[2].UserID != "heidi" {
		t.Fatalf("rows %+v", rows)
	}
	for _, row := range []PartLink{rows[0], rows[2]} {
		m := manifest(t, dst, row.UserID)
		got := get(t, row.URL)
		if got.status != http.StatusOK || sha256Hex(got.body) != m.Parts[0].SHA256 || row.SHA256 != m.Parts[0].SHA256 ||
			row.File != path.Base(m.Parts[0].Key) || row.Part != 1 || row.Parts != 1 || row.Bytes != m.Parts[0].Size {
			t.Fatalf("%+v: status %d sha256 %s", row, got.status, sha256Hex(got.body))
		}
		if until := time.Until(row.ExpiresAt); until < 59*time.Minute || until > time.Hour {
			t.Errorf("expires_at %v, want an hour from now", row.ExpiresAt)
		}
	}
	err = PresignLinks(context.Background(), dst, p, LinkOptions{TTL: MaxPresignTTL + time.Second},
		func(PartLink) error { return errors.New("no row expected") })
	if err == nil || !strings.Contains(err.Error(), "7 days") {
		t.Fatalf("TTL over 7 days: %v", err)
	}
	if PresignerFor(localExport(t, export.Options{})) != nil {
		t.Fatal("a presigner for a local folder")
	}
}
