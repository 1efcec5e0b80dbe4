package blobtest

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

var errSource = errors.New("source broke")

// failingReader streams its data, then fails instead of ending; when
// cancel is set it cancels a context instead.
type failingReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != io.EOF {
		return n, err
	}
	if f.cancel != nil {
		f.cancel()
		return n, context.Canceled
	}
	return n, errSource
}

func failAfter(n int) io.Reader {
	return &failingReader{r: stream(randomData(3, n))}
}

func testFailedPut(t *testing.T, st blob.Store) {
	cancelled, cancel := context.WithCancel(context.Background())
	defer cancel()
	cases := []struct {
		name string
		ctx  context.Context
		r    io.Reader
		want error
	}{
		{"in-first-part", context.Background(), failAfter(1000), errSource},
		{"mid-multipart", context.Background(), failAfter(20 * MiB), errSource},
		{"cancelled", cancelled, &failingReader{r: stream(randomData(4, 12*MiB)), cancel: cancel}, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := "failed/" + c.name
			_, err := st.Put(c.ctx, key, c.r, blob.PutOptions{})
			if !errors.Is(err, c.want) {
				t.Fatalf("Put = %v, want %v", err, c.want)
			}
			checkMissing(t, st, key)
		})
	}
	equalKeys(t, "List after failed Puts", listKeys(t, st, ""), []string{})
	checkNoIncomplete(t, st)
}

// testFailedOverwrite checks a failed Put leaves the old object whole.
func testFailedOverwrite(t *testing.T, st blob.Store) {
	old := randomData(5, 10*MiB)
	put(t, st, "keep", old, blob.PutOptions{})
	_, err := st.Put(context.Background(), "keep", failAfter(17*MiB), blob.PutOptions{})
	if !errors.Is(err, errSource) {
		t.Fatalf("Put = %v, want %v", err, errSource)
	}
	checkContent(t, st, "keep", old)
	checkNoIncomplete(t, st)
}
