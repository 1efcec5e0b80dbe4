package blob

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

// fakeObject serves one object over just enough of the S3 API for Open:
// HEAD, and GET with a byte range. It counts the GETs and can cut the
// first few streams short, as a dropped connection would.
type fakeObject struct {
	data   []byte
	gets   atomic.Int32
	breaks atomic.Int32 // streams still to cut after 1000 bytes
}

func (f *fakeObject) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ETag", `"v1"`)
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
		return
	}
	f.gets.Add(1)
	var from, to int
	if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &from, &to); err != nil {
		http.Error(w, "want a range", http.StatusBadRequest)
		return
	}
	body := f.data[from : to+1]
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(f.data)))
	w.WriteHeader(http.StatusPartialContent)
	if len(body) > 1000 && f.breaks.Add(-1) >= 0 {
		w.Write(body[:1000])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	w.Write(body)
}

func openFake(t *testing.T, f *fakeObject) ReaderAt {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	st, err := NewS3(context.Background(), "bucket", "", S3Config{
		Endpoint:    srv.URL,
		PathStyle:   true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "s", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := st.Open(context.Background(), "obj")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ra.Close() })
	return ra
}

func readAt(t *testing.T, ra io.ReaderAt, data []byte, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	if _, err := ra.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+int64(n)]) {
		t.Fatalf("ReadAt(%d at %d): %v or wrong bytes", n, off, err)
	}
}

func TestS3ReaderAtRequests(t *testing.T) {
	data := make([]byte, 3<<20)
	rand.NewChaCha8([32]byte{}).Read(data)
	size := int64(len(data))
	cases := []struct {
		name     string
		reads    func(t *testing.T, ra io.ReaderAt)
		wantGets int32
	}{
		{"sequential", func(t *testing.T, ra io.ReaderAt) {
			for off := int64(0); off < size; off += 32 << 10 {
				readAt(t, ra, data, off, 32<<10)
			}
		}, 2}, // one stream, one tail
		{"tail only", func(t *testing.T, ra io.ReaderAt) {
			for i := range 20 {
				readAt(t, ra, data, size-22-int64(i)*100, 22)
			}
		}, 1},
		{"small skips ahead", func(t *testing.T, ra io.ReaderAt) {
			for off := int64(0); off < size-tailSize; off += 200 << 10 {
				readAt(t, ra, data, off, 30)
			}
		}, 1},
		{"far jumps and a step back", func(t *testing.T, ra io.ReaderAt) {
			readAt(t, ra, data, 0, 10)
			readAt(t, ra, data, 1<<20, 10) // > skipLimit ahead: reopen
			readAt(t, ra, data, 1<<19, 10) // behind: reopen
		}, 3},
		{"read spanning into the tail", func(t *testing.T, ra io.ReaderAt) {
			readAt(t, ra, data, size-tailSize-100, 200)
		}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeObject{data: data}
			c.reads(t, openFake(t, f))
			if got := f.gets.Load(); got != c.wantGets {
				t.Errorf("%d GETs, want %d", got, c.wantGets)
			}
		})
	}
}

func TestS3ReaderAtReopensBrokenStream(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 200_000)
	f := &fakeObject{data: data}
	f.breaks.Store(2)
	ra := openFake(t, f)
	readAt(t, ra, data, 0, 1<<20)
	if got := f.gets.Load(); got != 3 {
		t.Errorf("%d GETs, want 3 (two cut short)", got)
	}
	f.breaks.Store(streamTries)
	_, err := ra.ReadAt(make([]byte, 100_000), 1500_000-tailSize-100_000)
	if err == nil || !strings.Contains(err.Error(), "obj") {
		t.Errorf("ReadAt over a stream that keeps breaking = %v, want an error naming the object", err)
	}
}
