package export

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/faultproxy"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// A network that drops S3's answer after S3 has committed the write is
// met by the SDK with a retry, which then finds its own write there: a
// create-only manifest or part answers 412, a claim's If-Match sees a new
// ETag. None of that may cost a user its export or report a finished user
// failed: every user ends exported, every export verifies, and nothing is
// left behind. Against versitygw through a proxy that loses the answer
// to a fifth of all requests, with users in one part and in several.
func TestLostAnswersCostNothing(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	for _, tc := range []struct {
		name string
		max  int64
		seed uint64
	}{{"one part", 0, 1}, {"several parts", 40 << 10, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srcDir := copySample(t)
			proxy := faultproxy.Start(t, srv.Endpoint, faultproxy.Config{Rate: 0.2, Seed: tc.seed, Kinds: []faultproxy.Kind{faultproxy.LostAnswer}})
			prefix := strings.ReplaceAll(t.Name(), " ", "-")
			dst := srv.StoreVia(t, proxy.URL, bucket, prefix, blob.S3Config{})
			rep, err := Run(ctx, fileStore(t, srcDir), dst, Options{MaxPartSize: tc.max, Attempts: 5, RetryBackoff: 10 * time.Millisecond})
			users := len(sampleUsers(t, srcDir))
			t.Logf("proxy: %s", proxy.Summary())
			if proxy.Faults(faultproxy.LostAnswer) == 0 {
				t.Fatal("no answer was lost")
			}
			if err != nil || rep.Users.Exported != users {
				t.Fatalf("run: %v, %+v, failures %+v; want all %d users exported", err, rep.Users, rep.Failures, users)
			}
			direct := srv.Store(t, bucket, prefix)
			checks, err := Verify(ctx, direct, VerifyOptions{})
			if err != nil || len(checks) != users {
				t.Fatalf("verify: %d checked, %v %+v", len(checks), err, checks)
			}
			err = direct.List(ctx, "", func(info blob.Info) error {
				if strings.HasSuffix(info.Key, claimName) {
					t.Errorf("claim left behind: %s", info.Key)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A lost answer to CreateMultipartUpload makes the SDK start a second
// upload; the first would stay open, billed, until a lifecycle rule took
// it. The writer aborts such strays, so users with multipart parts end
// exported and verified with no upload left open. Half the creates lose
// their answer here (and only creates, so that every stray is one).
func TestLostCreateAnswersLeaveNoUpload(t *testing.T) {
	ctx := context.Background()
	src := fileStore(t, t.TempDir())
	const users = 3
	if _, err := fixtures.Generate(ctx, src, fixtures.Options{Users: users, Broadcasts: 2, VideoBytes: 9 << 20, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	creates := func(r *http.Request) bool { return r.Method == http.MethodPost && r.URL.Query().Has("uploads") }
	proxy := faultproxy.Start(t, srv.Endpoint, faultproxy.Config{Rate: 0.5, Seed: 11, Kinds: []faultproxy.Kind{faultproxy.LostAnswer}, Match: creates})
	dst := srv.StoreVia(t, proxy.URL, bucket, "out", blob.S3Config{})
	rep, err := Run(ctx, src, dst, Options{Attempts: 5, RetryBackoff: 10 * time.Millisecond})
	t.Logf("proxy: %s", proxy.Summary())
	if proxy.Faults(faultproxy.LostAnswer) == 0 {
		t.Fatal("no create lost its answer")
	}
	if err != nil || rep.Users.Exported != users {
		t.Fatalf("run: %v, %+v, failures %+v", err, rep.Users, rep.Failures)
	}
	direct := srv.Store(t, bucket, "out")
	if checks, err := Verify(ctx, direct, VerifyOptions{}); err != nil || len(checks) != users {
		t.Fatalf("verify: %d checked, %v %+v", len(checks), err, checks)
	}
	open, err := direct.ListIncompleteUploads(ctx, "")
	if err != nil || len(open) > 0 {
		t.Fatalf("uploads left open: %v (%v)", open, err)
	}
}
