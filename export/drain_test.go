package export

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// hungStore is a source whose media reads block and ignore their context,
// as a read of a hung NFS mount does.
type hungStore struct {
	blob.Store
	stuck   chan struct{} // closed at the first hung read
	once    sync.Once
	release chan struct{}
}

func (h *hungStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if !strings.HasSuffix(key, "replay.mp4") {
		return h.Store.Get(ctx, key)
	}
	h.once.Do(func() { close(h.stuck) })
	return hungReader{h.release}, nil
}

type hungReader struct{ release chan struct{} }

func (r hungReader) Read([]byte) (int, error) { <-r.release; return 0, io.ErrUnexpectedEOF }
func (r hungReader) Close() error             { return nil }

// A stopped run writes its report even when users in flight are stuck in
// reads no context interrupts: they are abandoned after the drain.
func TestStoppedRunAbandonsStuckUsers(t *testing.T) {
	src := &hungStore{Store: fileStore(t, copySample(t)), stuck: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(src.release) })
	dst := fileStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Run(ctx, src, dst, Options{DrainTimeout: 100 * time.Millisecond, Attempts: 1})
		done <- result{rep, err}
	}()
	select {
	case <-src.stuck:
	case <-time.After(30 * time.Second):
		t.Fatal("no media read within 30s")
	}
	cancel()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run still waiting on stuck users 30s after it was stopped")
	}
	if !errors.Is(r.err, context.Canceled) || r.rep == nil || !r.rep.Interrupted {
		t.Fatalf("Run = %+v, %v; want an interrupted report and context.Canceled", r.rep, r.err)
	}
	if _, err := dst.Stat(context.Background(), r.rep.Key()); err != nil {
		t.Fatalf("run report not written: %v", err)
	}
}
