package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/blob/blobtest"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

func TestS3Conformance(t *testing.T) {
	srv := s3test.Start(t)
	t.Run("no-prefix", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store { return srv.Store(t, srv.NewBucket(t), "") })
	})
	t.Run("prefix", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) blob.Store { return srv.Store(t, srv.NewBucket(t), "exports/run-1") })
	})
}

// TestS3Prefix checks keys land under the prefix and come back relative.
func TestS3Prefix(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	st := srv.Store(t, bucket, "/p/q/")
	if got := st.String(); got != "s3://"+bucket+"/p/q/" {
		t.Errorf("String = %q", got)
	}
	if _, err := st.Put(ctx, "u/k", strings.NewReader("x"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client(t).HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: new("p/q/u/k")}); err != nil {
		t.Errorf("object not at p/q/u/k: %v", err)
	}
	var keys []string
	whole := srv.Store(t, bucket, "")
	for _, s := range []*blob.S3Store{st, whole} {
		err := s.List(ctx, "", func(i blob.Info) error { keys = append(keys, i.Key); return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"u/k", "p/q/u/k"}; !slices.Equal(keys, want) {
		t.Errorf("List = %q, want %q", keys, want)
	}
}

// TestS3AbortIncompleteUploads cleans up after a process that died
// mid-upload.
func TestS3AbortIncompleteUploads(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	st := srv.Store(t, bucket, "pfx")
	for _, k := range []string{"pfx/a/1", "pfx/a/2", "other/3"} {
		_, err := srv.Client(t).CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: new(k)})
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, err := st.ListIncompleteUploads(ctx, "a/")
	if err != nil || !slices.Equal(keys, []string{"a/1", "a/2"}) {
		t.Fatalf("ListIncompleteUploads = %q, %v", keys, err)
	}
	n, err := st.AbortIncompleteUploads(ctx, "")
	if err != nil || n != 2 {
		t.Fatalf("AbortIncompleteUploads = %d, %v; want 2", n, err)
	}
	if keys, _ := srv.Store(t, bucket, "").ListIncompleteUploads(ctx, ""); !slices.Equal(keys, []string{"other/3"}) {
		t.Errorf("left %q, want only the upload outside the prefix", keys)
	}
}

// TestS3Budget checks uploads give every part buffer back, and that a
// budget smaller than one part slows uploads down without blocking them.
func TestS3Budget(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	for _, limit := range []int64{64 << 20, 4 << 20} {
		t.Run(fmt.Sprint(limit>>20, "MiB"), func(t *testing.T) {
			budget := blob.NewBudget(limit)
			st := srv.StoreConfig(t, bucket, fmt.Sprint(limit), blob.S3Config{Budget: budget, Concurrency: 3})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var wg sync.WaitGroup
			for i := range 3 {
				wg.Go(func() {
					data := bytes.Repeat([]byte{byte(i)}, 30<<20+i)
					if _, err := st.Put(ctx, fmt.Sprint(i), bytes.NewReader(data), blob.PutOptions{}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			buf, err := budget.Acquire(ctx, int(limit))
			if err != nil {
				t.Fatalf("budget not given back after uploads: %v", err)
			}
			budget.Release(buf)
		})
	}
}

// TestS3FromEnvironment checks the standard AWS chain is honoured, as the
// built binary relies on: credentials, region and AWS_ENDPOINT_URL_S3.
func TestS3FromEnvironment(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	ctx := context.Background()
	st, err := blob.Open(ctx, "s3://"+bucket+"/from-env", blob.S3Config{PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "k", strings.NewReader("hello"), blob.PutOptions{}); err != nil {
		t.Fatalf("Put through the environment's endpoint: %v", err)
	}
	if _, err := srv.Store(t, bucket, "from-env").Stat(ctx, "k"); err != nil {
		t.Errorf("object not stored under the prefix: %v", err)
	}
}
