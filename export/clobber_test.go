package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
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

// staleManifest is a destination whose first read of key answers with
// what was there earlier: body, or "not there" when body is nil. That is
// what a run sees when it checked a user just before another run finished
// or replaced the export.
type staleManifest struct {
	patchStore
	key    string
	body   []byte
	served atomic.Bool
}

func (s *staleManifest) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == s.key && s.served.CompareAndSwap(false, true) {
		if s.body == nil {
			return nil, fmt.Errorf("get %s: %w", key, blob.ErrNotExist)
		}
		return io.NopCloser(bytes.NewReader(s.body)), nil
	}
	return s.patchStore.Get(ctx, key)
}

// A run whose check of a user went stale before it held the claim must
// not replace a finished export: it finds the export done once the claim
// is its own, reports the user skipped, and the export stays byte for byte
// what its manifest says. Three ways to get there:
//
//   - no manifest was seen, and another run finished the user before the
//     claim (the claim is fresh: create-only parts find the finished ones);
//   - an outdated manifest was seen, and another run replaced the export
//     before the claim (read again once the claim is held);
//   - no manifest was seen, and the run that finished the user was killed
//     before releasing its claim, which is taken over (read again).
//
// On the folder store and on S3, with the export in one part and in
// several.
func TestStaleCheckNeverClobbersAFinishedExport(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	cases := []struct {
		name string
		// prepare brings dst to a finished export of src and returns what
		// the stale first read answers; it may leave a claim behind.
		prepare func(t *testing.T, srcDir string, dst blob.Store, opts Options) []byte
	}{
		{"finished before a fresh claim", func(t *testing.T, srcDir string, dst blob.Store, opts Options) []byte {
			mustExport(t, srcDir, dst, opts)
			return nil
		}},
		{"replaced before the claim", func(t *testing.T, srcDir string, dst blob.Store, opts Options) []byte {
			mustExport(t, srcDir, dst, opts)
			outdated := readObject(t, dst, manifestKey("alice"))
			bids, _ := filepath.Glob(filepath.Join(srcDir, "broadcasts", "alice", "*"))
			if err := os.WriteFile(filepath.Join(bids[0], "chat.jsonl"), []byte(`{"text":"late"}`+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			mustExport(t, srcDir, dst, opts)
			return outdated
		}},
		{"finished, holder killed before release", func(t *testing.T, srcDir string, dst blob.Store, opts Options) []byte {
			mustExport(t, srcDir, dst, opts)
			body, _ := json.Marshal(claim{RunID: "killed", Host: host, PID: dead.Process.Pid, ExpiresAt: time.Now().Add(time.Hour)})
			if _, err := dst.Put(context.Background(), claimKey("alice"), bytes.NewReader(body), blob.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
	}
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
	stores["s3"] = func(t *testing.T) patchStore {
		return srv.Store(t, bucket, strings.NewReplacer(" ", "-", ",", "").Replace(t.Name()))
	}
	for storeName, newStore := range stores {
		for _, parts := range []struct {
			name string
			max  int64
		}{{"one part", 0}, {"several parts", 40 << 10}} {
			for _, tc := range cases {
				t.Run(storeName+"/"+parts.name+"/"+tc.name, func(t *testing.T) {
					ctx := context.Background()
					srcDir, store := copySample(t), newStore(t)
					opts := Options{Only: map[string]bool{"alice": true}, MaxPartSize: parts.max, Attempts: 1}
					stale := tc.prepare(t, srcDir, store, opts)
					before := readParts(t, store, "alice")
					if parts.max > 0 && len(before) < 2 {
						t.Fatalf("alice in %d part(s), want several", len(before))
					}

					dst := &staleManifest{patchStore: store, key: manifestKey("alice"), body: stale}
					opts.Now = func() time.Time { return time.Now().Add(48 * time.Hour) } // other dates, other bytes
					rep := runExport(t, fileStore(t, srcDir), dst, opts)
					if !dst.served.Load() {
						t.Fatal("the run never read alice's manifest")
					}
					if rep.Users.Skipped != 1 || rep.Users.Exported != 0 || rep.Users.Failed != 0 {
						t.Fatalf("run: %+v (failures %+v), want alice skipped: her export was finished", rep.Users, rep.Failures)
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
}

func mustExport(t *testing.T, srcDir string, dst blob.Store, opts Options) {
	t.Helper()
	if rep := runExport(t, fileStore(t, srcDir), dst, opts); rep.Users.Exported != 1 {
		t.Fatalf("export: %+v, failures %+v", rep.Users, rep.Failures)
	}
}

func readObject(t *testing.T, st blob.Store, key string) []byte {
	t.Helper()
	rc, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
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
	m, err := ReadManifest(context.Background(), dst, uid)
	if err != nil {
		t.Fatal(err)
	}
	var all [][]byte
	for _, p := range m.Parts {
		all = append(all, readObject(t, dst, p.Key))
	}
	return all
}
