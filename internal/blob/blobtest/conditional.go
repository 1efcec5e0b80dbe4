package blobtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func testIfNoneMatch(t *testing.T, st blob.Store) {
	put(t, st, "once", []byte("first"), blob.PutOptions{IfNoneMatch: true})
	_, err := st.Put(context.Background(), "once", stream([]byte("second")), blob.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, blob.ErrPrecondition) {
		t.Fatalf("second IfNoneMatch Put = %v, want ErrPrecondition", err)
	}
	checkContent(t, st, "once", []byte("first"))
}

// testIfNoneMatchMultipart loses the condition at the end of a long upload.
func testIfNoneMatchMultipart(t *testing.T, st blob.Store) {
	first := randomData(1, 9*MiB)
	put(t, st, "once", first, blob.PutOptions{IfNoneMatch: true})
	_, err := st.Put(context.Background(), "once", stream(randomData(2, 9*MiB)), blob.PutOptions{IfNoneMatch: true})
	if !errors.Is(err, blob.ErrPrecondition) {
		t.Fatalf("second IfNoneMatch Put = %v, want ErrPrecondition", err)
	}
	checkContent(t, st, "once", first)
	checkNoIncomplete(t, st)
}

// testIfNoneMatchRace has writers race for one key: exactly one may win,
// and its content is what stays.
func testIfNoneMatchRace(t *testing.T, st blob.Store) {
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			data := fmt.Appendf(nil, "writer %d", i)
			_, errs[i] = st.Put(context.Background(), "race", stream(data), blob.PutOptions{IfNoneMatch: true})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, blob.ErrPrecondition):
			t.Errorf("writer %d: %v, want ErrPrecondition", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	checkContent(t, st, "race", fmt.Appendf(nil, "writer %d", winner))
}

func testIfMatch(t *testing.T, st blob.Store) {
	ctx := context.Background()
	v1 := put(t, st, "state", []byte("version-1"), blob.PutOptions{})
	v2 := put(t, st, "state", []byte("version-2"), blob.PutOptions{IfMatch: v1.ETag})
	if v2.ETag == v1.ETag {
		t.Fatalf("ETag %q did not change with the content", v1.ETag)
	}
	_, err := st.Put(ctx, "state", stream([]byte("version-3")), blob.PutOptions{IfMatch: v1.ETag})
	if !errors.Is(err, blob.ErrPrecondition) {
		t.Fatalf("Put with a stale ETag = %v, want ErrPrecondition", err)
	}
	checkContent(t, st, "state", []byte("version-2"))
	_, err = st.Put(ctx, "never-written", stream([]byte("x")), blob.PutOptions{IfMatch: v2.ETag})
	if !errors.Is(err, blob.ErrPrecondition) {
		t.Fatalf("IfMatch Put of a missing key = %v, want ErrPrecondition", err)
	}
	checkMissing(t, st, "never-written")
}
