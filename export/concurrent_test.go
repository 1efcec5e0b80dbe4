package export

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// Runs that export the same users into the same bucket at once (a shard
// started twice, a Batch retry racing its first attempt) export each user
// exactly once between them: the others find it claimed, wait, and skip
// it. Nothing is left behind (claims, parts no manifest lists, open
// uploads) and every export verifies. Against versitygw, with every user
// in several parts, so that runs meet between parts too.
func TestConcurrentRunsExportEachUserOnce(t *testing.T) {
	const users, runs = 24, 3
	ctx := context.Background()
	src := fileStore(t, t.TempDir())
	if _, err := fixtures.Generate(ctx, src, fixtures.Options{Users: users, Broadcasts: 2, VideoBytes: 24 << 10, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	srv := s3test.Start(t)
	dst := srv.Store(t, srv.NewBucket(t), "out")

	reports := make([]*Report, runs)
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			reports[i], errs[i] = Run(ctx, src, dst, Options{
				RunID: fmt.Sprintf("run-%d", i), Workers: 4, MaxPartSize: 20 << 10,
				ClaimTTL: time.Second, RetryBackoff: 20 * time.Millisecond, Attempts: 30,
			})
		})
	}
	wg.Wait()
	var exported, skipped int
	for i, rep := range reports {
		if rep == nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		if errs[i] != nil || rep.Users.Failed != 0 {
			t.Errorf("run %d: %v: %+v, failures %+v", i, errs[i], rep.Users, rep.Failures)
		}
		exported += rep.Users.Exported
		skipped += rep.Users.Skipped
	}
	if exported != users || skipped != users*(runs-1) {
		t.Errorf("%d exported and %d skipped in all, want each of %d users exported once and skipped by the other %d runs",
			exported, skipped, users, runs-1)
	}

	checks, err := Verify(ctx, dst, VerifyOptions{})
	if err != nil || len(checks) != users {
		t.Fatalf("verify: %d users checked, %v", len(checks), err)
	}
	listed := map[string]bool{}
	for _, c := range checks {
		m, err := ReadManifest(ctx, dst, c.User)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Parts) < 2 {
			t.Fatalf("user %s in %d part(s), want several", c.User, len(m.Parts))
		}
		for _, p := range m.Parts {
			listed[p.Key] = true
		}
	}
	err = dst.List(ctx, "", func(info blob.Info) error {
		switch {
		case strings.HasSuffix(info.Key, claimName):
			t.Errorf("claim left behind: %s", info.Key)
		case strings.HasSuffix(info.Key, ".zip") && !listed[info.Key]:
			t.Errorf("part no manifest lists: %s", info.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l, ok := blob.As[blob.IncompleteLister](dst)
	if !ok {
		t.Fatal("the S3 store lists no incomplete uploads")
	}
	if open, err := l.ListIncompleteUploads(ctx, ""); err != nil || len(open) > 0 {
		t.Fatalf("uploads left open: %v (%v)", open, err)
	}
}
