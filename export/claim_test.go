package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func TestClaims(t *testing.T) {
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := os.Getppid()
	for _, tc := range []struct {
		name     string
		claim    claim
		exported bool
	}{
		{"live claim of another run is respected", claim{RunID: "other", Host: host, PID: live, ExpiresAt: time.Now().Add(time.Hour)}, false},
		{"live claim on another host is respected", claim{RunID: "other", Host: "elsewhere", PID: 1, ExpiresAt: time.Now().Add(time.Hour)}, false},
		{"expired claim is taken over", claim{RunID: "other", Host: "elsewhere", PID: 1, ExpiresAt: time.Now().Add(-time.Second)}, true},
		{"claim of a dead process here is taken over", claim{RunID: "other", Host: host, PID: dead.Process.Pid, ExpiresAt: time.Now().Add(time.Hour)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcDir, dstDir := copySample(t), t.TempDir()
			body, _ := json.Marshal(tc.claim)
			os.MkdirAll(filepath.Join(dstDir, "frank"), 0o755)
			os.WriteFile(filepath.Join(dstDir, "frank", claimName), body, 0o644)
			rep := runExport(t, fileStore(t, srcDir), fileStore(t, dstDir), Options{
				Only: map[string]bool{"frank": true}, Attempts: 1,
			})
			if got := rep.Users.Exported == 1; got != tc.exported {
				t.Fatalf("exported=%v, want %v; failures %+v", got, tc.exported, rep.Failures)
			}
			if !tc.exported && !strings.Contains(rep.Failures[0].Reason, "being exported by run other") {
				t.Fatalf("reason %q does not name the holder", rep.Failures[0].Reason)
			}
			if _, err := os.Stat(filepath.Join(dstDir, "frank", claimName)); tc.exported && err == nil {
				t.Fatal("claim not released after the export")
			}
		})
	}
}

// A user held by another live run is waited for, then exported once the
// claim expires.
func TestClaimIsWaitedOut(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	body, _ := json.Marshal(claim{RunID: "other", Host: "elsewhere", ExpiresAt: time.Now().Add(300 * time.Millisecond)})
	os.MkdirAll(filepath.Join(dstDir, "frank"), 0o755)
	os.WriteFile(filepath.Join(dstDir, "frank", claimName), body, 0o644)
	rep, err := Run(context.Background(), fileStore(t, srcDir), fileStore(t, dstDir), Options{
		Only: map[string]bool{"frank": true}, RetryBackoff: 10 * time.Millisecond,
	})
	if err != nil || rep.Users.Exported != 1 {
		t.Fatalf("err %v, report %+v", err, rep.Users)
	}
}

// holdingStore is a destination that, as the at-th part of a user
// starts (counting from 1), calls onWrite (which replaces or breaks the
// user's claim) and then holds that part until the writer's context ends,
// or for three seconds. noticed says which came first: whether the writer,
// watching its claim, stopped.
type holdingStore struct {
	patchStore
	at      int32
	onWrite func() error // returns the error claim writes fail with from then on
	parts   atomic.Int32
	first   atomic.Value // the first part's key
	mu      sync.Mutex
	failing error
	noticed atomic.Bool
}

func (s *holdingStore) PutPatchable(ctx context.Context, key string, opts blob.PutOptions) (blob.PatchWriter, error) {
	n := s.parts.Add(1)
	if n == 1 {
		s.first.Store(key)
	}
	if n == s.at {
		err := s.onWrite()
		s.mu.Lock()
		s.failing = err
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			s.noticed.Store(true)
			return nil, ctx.Err()
		case <-time.After(3 * time.Second):
		}
	}
	return s.patchStore.PutPatchable(ctx, key, opts)
}

func (s *holdingStore) Put(ctx context.Context, key string, r io.Reader, opts blob.PutOptions) (blob.Info, error) {
	s.mu.Lock()
	err := s.failing
	s.mu.Unlock()
	if err != nil && strings.HasSuffix(key, claimName) {
		return blob.Info{}, err
	}
	return s.patchStore.Put(ctx, key, r, opts)
}

// A worker writes a user only while its claim is its own. When a renewal
// finds the claim taken over, or renewals fail until it is about to
// expire, the worker stops writing, reports the user failed for that
// reason, writes no manifest, and does not delete a claim that may be
// another worker's now.
func TestWorkerStopsWhenItsClaimIsLost(t *testing.T) {
	takeOver := func(t *testing.T, dst blob.Store) {
		body, _ := json.Marshal(claim{RunID: "other", Host: "elsewhere", PID: 1, ExpiresAt: time.Now().Add(time.Hour)})
		if _, err := dst.Put(context.Background(), claimKey("alice"), bytes.NewReader(body), blob.PutOptions{}); err != nil {
			t.Error(err)
		}
	}
	otherPart := []byte("the other worker's part 1")
	for _, tc := range []struct {
		name   string
		reason string
		max    int64 // --max-part-size
		at     int32 // the part during which the claim is lost
		lose   func(t *testing.T, dst blob.Store, part1 string) error
	}{
		{"taken over", "another run took it over", 0, 1, func(t *testing.T, dst blob.Store, _ string) error {
			takeOver(t, dst)
			return nil
		}},
		// The taker has written part 1 again by the time the first worker
		// notices: it must not remove what is now the other's.
		{"taken over after part 1", "another run took it over", 40 << 10, 2, func(t *testing.T, dst blob.Store, part1 string) error {
			takeOver(t, dst)
			if _, err := dst.Put(context.Background(), part1, bytes.NewReader(otherPart), blob.PutOptions{}); err != nil {
				t.Error(err)
			}
			return nil
		}},
		{"renewals fail", "could not renew it before it expired", 0, 1, func(t *testing.T, dst blob.Store, _ string) error {
			return errors.New("503 slow down")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcDir, dstDir := copySample(t), t.TempDir()
			fs, err := blob.NewFile(dstDir)
			if err != nil {
				t.Fatal(err)
			}
			dst := &holdingStore{patchStore: fs, at: tc.at}
			dst.onWrite = func() error { return tc.lose(t, fs, dst.first.Load().(string)) }
			rep := runExport(t, fileStore(t, srcDir), dst, Options{
				Only: map[string]bool{"alice": true}, Attempts: 1, ClaimTTL: 600 * time.Millisecond, RunID: "ours", MaxPartSize: tc.max,
			})
			if !dst.noticed.Load() {
				t.Error("the worker went on writing after losing its claim")
			}
			if rep.Users.Failed != 1 || !strings.Contains(rep.Failures[0].Reason, "claim lost: "+tc.reason) {
				t.Fatalf("report %+v, failures %+v; want alice failed with %q", rep.Users, rep.Failures, tc.reason)
			}
			if _, err := os.Stat(filepath.Join(dstDir, "alice", ManifestName)); err == nil {
				t.Fatal("a manifest was written without the claim")
			}
			if strings.HasPrefix(tc.name, "taken over") {
				var c claim
				b, err := os.ReadFile(filepath.Join(dstDir, "alice", claimName))
				if err != nil || json.Unmarshal(b, &c) != nil || c.RunID != "other" {
					t.Fatalf("the other run's claim is gone or changed: %s (%v)", b, err)
				}
			}
			if tc.at > 1 {
				b, err := os.ReadFile(filepath.Join(dstDir, filepath.FromSlash(dst.first.Load().(string))))
				if err != nil || !bytes.Equal(b, otherPart) {
					t.Fatalf("the other worker's part 1 was removed or changed: %q (%v)", b, err)
				}
			}
		})
	}
}

// releasingStore is a destination where the user's claim is released by
// its holder right after the worker saw it (between its Stat and its Get).
type releasingStore struct {
	patchStore
	released atomic.Bool
}

func (s *releasingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasSuffix(key, claimName) && s.released.CompareAndSwap(false, true) {
		if err := s.patchStore.Delete(ctx, key); err != nil {
			return nil, err
		}
	}
	return s.patchStore.Get(ctx, key)
}

// A claim released while the worker reads it is simply taken: the user is
// exported, not failed.
func TestClaimReleasedWhileReadIsTaken(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	body, _ := json.Marshal(claim{RunID: "other", Host: "elsewhere", PID: 1, ExpiresAt: time.Now().Add(time.Hour)})
	os.MkdirAll(filepath.Join(dstDir, "frank"), 0o755)
	os.WriteFile(filepath.Join(dstDir, "frank", claimName), body, 0o644)
	fs, err := blob.NewFile(dstDir)
	if err != nil {
		t.Fatal(err)
	}
	dst := &releasingStore{patchStore: fs}
	rep := runExport(t, fileStore(t, srcDir), dst, Options{Only: map[string]bool{"frank": true}, Attempts: 1})
	if !dst.released.Load() {
		t.Fatal("the worker never read the claim")
	}
	if rep.Users.Exported != 1 {
		t.Fatalf("report %+v, failures %+v; want frank exported", rep.Users, rep.Failures)
	}
}
