package sunset

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
	"github.com/periscope-sunset/periscope-sunset/sunset/gate"
)

// TestOpenURLEmbedsTheGate opens the state by URL, as a service outside
// this module does, on a local folder and on S3 through the standard AWS
// environment.
func TestOpenURLEmbedsTheGate(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	for _, raw := range []string{t.TempDir() + "/state", "s3://" + bucket + "/ops/sunset"} {
		s, err := OpenURL(ctx, raw, Options{Actor: "svc"}, StoreOptions{S3PathStyle: true})
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if _, err := s.Block(ctx, BlockRequest{Reason: "closing"}); err != nil {
			t.Fatalf("%s: block: %v", raw, err)
		}
		g := gate.New(s.GateSource(), gate.Options{})
		if err := g.Refresh(ctx); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		rec := httptest.NewRecorder()
		g.Wrap(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("POST", "/signup", nil))
		if rec.Code != http.StatusGone {
			t.Errorf("%s: POST /signup = %d, want 410", raw, rec.Code)
		}
	}
	if _, err := OpenURL(ctx, "ftp://x/y", Options{}, StoreOptions{}); err == nil {
		t.Error("OpenURL accepted ftp://")
	}
}
