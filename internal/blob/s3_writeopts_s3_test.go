package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/recproxy"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// failingReader yields n bytes, then an error, so a multipart Put aborts.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("source broke")
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

// TestS3ExpectedOwnerEveryRequest makes every kind of request the store
// makes, through a recording proxy, and checks each carried the owner.
func TestS3ExpectedOwnerEveryRequest(t *testing.T) {
	srv := s3test.Start(t)
	proxy := recproxy.Start(t, srv.Endpoint)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	st := srv.StoreVia(t, proxy.URL, bucket, "p", blob.S3Config{ExpectedBucketOwner: srv.AccessKey})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.CheckBucketOwner(ctx))
	_, err := st.Put(ctx, "small", strings.NewReader("hello"), blob.PutOptions{})
	must(err)
	big := bytes.Repeat([]byte("x"), 9<<20)
	_, err = st.Put(ctx, "big", bytes.NewReader(big), blob.PutOptions{})
	must(err)
	_, err = st.Stat(ctx, "big")
	must(err)
	must(st.List(ctx, "", func(blob.Info) error { return nil }))
	rc, err := st.Get(ctx, "big")
	must(err)
	io.Copy(io.Discard, rc)
	rc.Close()
	ra, err := st.Open(ctx, "big")
	must(err)
	_, err = ra.ReadAt(make([]byte, 10), 1<<20)
	must(err)
	ra.Close()
	if _, err := st.Put(ctx, "broken", &failingReader{n: 9 << 20}, blob.PutOptions{}); err == nil {
		t.Fatal("Put of a broken stream succeeded")
	}
	// A multipart upload left behind, as by a killed process.
	cl := srv.Client(t)
	_, err = cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws("p/left")})
	must(err)
	_, err = st.ListIncompleteUploads(ctx, "")
	must(err)
	n, err := st.AbortIncompleteUploads(ctx, "")
	must(err)
	if n != 1 {
		t.Errorf("aborted %d uploads, want 1", n)
	}
	must(st.Delete(ctx, "small"))

	ops := map[string]int{}
	for _, r := range proxy.Requests() {
		ops[r.Op()]++
		if got := r.Header.Get("X-Amz-Expected-Bucket-Owner"); got != srv.AccessKey {
			t.Errorf("%s %s: expected bucket owner %q", r.Op(), r.Path, got)
		}
	}
	t.Logf("requests: %v", ops)
	for _, op := range []string{"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
		"AbortMultipartUpload", "HeadObject", "ListObjectsV2", "GetObject", "ListMultipartUploads", "DeleteObject"} {
		if ops[op] == 0 {
			t.Errorf("no %s made", op)
		}
	}
}

// TestS3WrongOwner checks that a store whose expected owner is not the
// bucket's writes nothing and says why.
func TestS3WrongOwner(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	st := srv.StoreConfig(t, bucket, "", blob.S3Config{ExpectedBucketOwner: "111122223333"})
	if err := st.CheckBucketOwner(ctx); !errors.Is(err, blob.ErrBucketOwner) {
		t.Errorf("CheckBucketOwner = %v, want ErrBucketOwner", err)
	}
	for _, data := range [][]byte{[]byte("small"), bytes.Repeat([]byte("x"), 9<<20)} {
		if _, err := st.Put(ctx, "k", bytes.NewReader(data), blob.PutOptions{}); !errors.Is(err, blob.ErrBucketOwner) {
			t.Errorf("Put of %d bytes = %v, want ErrBucketOwner", len(data), err)
		}
	}
	out, err := srv.Client(t).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("%d objects written to another owner's bucket", len(out.Contents))
	}
	ups, err := srv.Client(t).ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads started in another owner's bucket", len(ups.Uploads))
	}
}

func aws(s string) *string { return &s }
