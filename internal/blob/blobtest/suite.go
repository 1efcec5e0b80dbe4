// Package blobtest is the conformance suite every blob.Store backend
// passes, so export and sunset can rely on the Store contract alone. Run
// gives each case a fresh, empty store and runs the cases in parallel.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// MiB is a mebibyte; sizes here are picked around the S3 part size (8 MiB).
const MiB = 1 << 20

// Run runs the suite. newStore must return an empty store each time.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Missing", testMissing},
		{"List", testList},
		{"ListStops", testListStops},
		{"ReadAt", testReadAt},
		{"Zip", testZip},
		{"IfNoneMatch", testIfNoneMatch},
		{"IfNoneMatchMultipart", testIfNoneMatchMultipart},
		{"IfNoneMatchRace", testIfNoneMatchRace},
		{"IfMatch", testIfMatch},
		{"Delete", testDelete},
		{"FailedPut", testFailedPut},
		{"FailedOverwrite", testFailedOverwrite},
		{"Patch", testPatch},
		{"PatchMisuse", testPatchMisuse},
		{"PatchCancel", testPatchCancel},
		{"PatchIfNoneMatch", testPatchIfNoneMatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// randomData is n reproducible bytes that do not compress.
func randomData(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	rand.NewChaCha8(s).Read(b)
	return b
}

// streamReader hides everything but Read (no Seek, Len or WriteTo, so no
// backend can learn the size) and returns short reads, as pipes do.
type streamReader struct {
	r   io.Reader
	max int
}

func stream(b []byte) io.Reader { return &streamReader{r: bytes.NewReader(b), max: 100_003} }

func (s *streamReader) Read(p []byte) (int, error) {
	return s.r.Read(p[:min(len(p), s.max)])
}

func put(t *testing.T, st blob.Store, key string, data []byte, opts blob.PutOptions) blob.Info {
	t.Helper()
	info, err := st.Put(context.Background(), key, stream(data), opts)
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	return info
}

func get(t *testing.T, st blob.Store, key string) []byte {
	t.Helper()
	rc, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get %s: read: %v", key, err)
	}
	return b
}

func checkContent(t *testing.T, st blob.Store, key string, want []byte) {
	t.Helper()
	if got := get(t, st, key); !bytes.Equal(got, want) {
		t.Fatalf("Get %s: got %d bytes, want %d (or content differs)", key, len(got), len(want))
	}
}

func listKeys(t *testing.T, st blob.Store, prefix string) []string {
	t.Helper()
	keys := []string{}
	err := st.List(context.Background(), prefix, func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List %q: %v", prefix, err)
	}
	return keys
}

func checkMissing(t *testing.T, st blob.Store, key string) {
	t.Helper()
	if _, err := st.Stat(context.Background(), key); !errors.Is(err, blob.ErrNotExist) {
		t.Fatalf("Stat %s = %v, want ErrNotExist", key, err)
	}
}

// checkNoIncomplete fails if the store holds stray multipart uploads.
func checkNoIncomplete(t *testing.T, st blob.Store) {
	t.Helper()
	l, ok := blob.As[blob.IncompleteLister](st)
	if !ok {
		return
	}
	keys, err := l.ListIncompleteUploads(context.Background(), "")
	if err != nil {
		t.Fatalf("ListIncompleteUploads: %v", err)
	}
	if len(keys) > 0 {
		t.Fatalf("incomplete uploads left behind: %q", keys)
	}
}

func equalKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}
