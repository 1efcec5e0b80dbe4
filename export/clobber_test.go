package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// patchStore is a destination the export can write parts to.
type patchStore interface {
	blob.Store
	blob.PatchPutter
}

// staleManifest is a destination whose first read of key answers "not
// there": what a run sees when it checked a user just before another run
// finished it.
type staleManifest struct {
	patchStore
	key    string
	missed atomic.Bool
}

func (s *staleManifest) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == s.key && s.missed.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("get %s: %w", key, blob.ErrNotExist)
	}
	return s.patchStore.Get(ctx, key)
}

// A run that checked a user just before another run finished it must not
// replace the finished parts: its claim is fresh, but the export it would
// overwrite is complete. It finds the finished export instead and reports
// the user skipped, and the export stays byte for byte what its manifest
// says. On the folder store and on S3, in one part and in several.
func TestFinishedExportIsNeverClobbered(t *testing.T) {
	stores := map[string]func(t *testing.T) patchStore{
		"file": func(t *testing.T) patchStore {
			s, err := blob.NewFile(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	stores["s3"] = func(t *testing.T) patchStore { return srv.Store(t, bucket, strings.ReplaceAll(t.Name(), " ", "-")) }
	for name, newStore := range stores {
		for _, parts := range []struct {
			name string
			max  int64
		}{{"one part", 0}, {"several parts", 40 << 10}} {
			t.Run(name+"/"+parts.name, func(t *testing.T) {
				ctx := context.Background()
				src := fileStore(t, copySample(t))
				store := newStore(t)
				alice := Options{Only: map[string]bool{"alice": true}, MaxPartSize: parts.max, Attempts: 1}
				if first := runExport(t, src, store, alice); first.Users.Exported != 1 {
					t.Fatalf("first run: %+v", first.Users)
				}
				before := readParts(t, store, "alice")
				if parts.max > 0 && len(before) < 2 {
					t.Fatalf("alice in %d part(s), want several", len(before))
				}

				dst := &staleManifest{patchStore: store, key: manifestKey("alice")}
				alice.Now = func() time.Time { return time.Now().Add(48 * time.Hour) } // other dates, other bytes
				second := runExport(t, src, dst, alice)
				if !dst.missed.Load() {
					t.Fatal("the second run never read alice's manifest")
				}
				if second.Users.Skipped != 1 || second.Users.Exported != 0 || second.Users.Failed != 0 {
					t.Fatalf("second run: %+v (failures %+v), want alice skipped: she was finished meanwhile", second.Users, second.Failures)
				}
				if after := readParts(t, store, "alice"); !slices.EqualFunc(after, before, bytes.Equal) {
					t.Fatal("the finished export's parts were rewritten")
				}
				if checks, err := Verify(ctx, store, VerifyOptions{Users: []string{"alice"}}); err != nil {
					t.Fatalf("verify: %v %+v", err, checks)
				}
				if _, err := store.Stat(ctx, claimKey("alice")); !isNotExist(err) {
					t.Fatalf("claim left behind (stat: %v)", err)
				}
			})
		}
	}
}

// A part with no manifest and no claim is what a failed attempt could not
// remove. A fresh run replaces it and finishes the export.
func TestLeftoverPartIsReplaced(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	if err := os.MkdirAll(filepath.Join(dstDir, "alice"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dstDir, filepath.FromSlash(partKey("alice", 1, 1))), []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := fileStore(t, dstDir)
	rep := runExport(t, fileStore(t, srcDir), dst, Options{Only: map[string]bool{"alice": true}, Attempts: 1})
	if rep.Users.Exported != 1 {
		t.Fatalf("run: %+v, failures %+v", rep.Users, rep.Failures)
	}
	if checks, err := Verify(context.Background(), dst, VerifyOptions{Users: []string{"alice"}}); err != nil {
		t.Fatalf("verify: %v %+v", err, checks)
	}
}

// readParts is the bytes of every zip part of uid's export, as its
// manifest lists them.
func readParts(t *testing.T, dst blob.Store, uid string) [][]byte {
	t.Helper()
	ctx := context.Background()
	m, err := ReadManifest(ctx, dst, uid)
	if err != nil {
		t.Fatal(err)
	}
	var all [][]byte
	for _, p := range m.Parts {
		rc, err := dst.Get(ctx, p.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b)
	}
	return all
}
