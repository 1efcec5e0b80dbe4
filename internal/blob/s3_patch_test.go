package blob_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/blob/blobtest"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// TestS3PatchTightBudget runs more patch uploads at once than the budget
// has room for while each holds a part: with a budget of two parts, every
// upload needs both of its own buffers, so they must take turns and none
// may wait on the budget while holding. A deadlock shows as the timeout.
func TestS3PatchTightBudget(t *testing.T) {
	srv := s3test.Start(t)
	st := srv.StoreConfig(t, srv.NewBucket(t), "", blob.S3Config{Budget: blob.NewBudget(16 << 20)})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const size = 30 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range 4 {
		g.Go(func() error {
			w, err := st.PutPatchable(gctx, fmt.Sprintf("tight/%d", i), blob.PutOptions{SizeHint: size})
			if err != nil {
				return err
			}
			_, err = blobtest.PatchStream(w, data, []blobtest.Span{{Off: 10, N: 60, Until: 25 << 20}})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}
