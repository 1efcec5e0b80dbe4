package blob_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// noHang runs fn and fails the test if it has not returned within a
// minute: a read that blocks on a FIFO must fail the test, not hang it.
func noHang(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s: still blocked after a minute", what)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mksocket leaves a unix socket file at p.
func mksocket(t *testing.T, p string) {
	t.Helper()
	l, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
}

// hostileArchive builds a source archive in which alice's folder holds
// every kind of entry that must not be read for her.
func hostileArchive(t *testing.T) string {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "users.jsonl"), `{"id":"alice"}`+"\n")
	writeFile(t, filepath.Join(root, "secret.txt"), "secret")
	a := filepath.Join(root, "broadcasts/alice/b1")
	writeFile(t, filepath.Join(a, "broadcast.json"), "{}")
	writeFile(t, filepath.Join(a, "replay.mp4"), "alice video")
	writeFile(t, filepath.Join(root, "broadcasts/bob/b1/replay.mp4"), "bob video")
	symlink(t, "../../../users.jsonl", filepath.Join(a, "chat.jsonl"))
	symlink(t, filepath.Join(root, "secret.txt"), filepath.Join(a, "absolute"))
	symlink(t, "/dev/zero", filepath.Join(a, "zero"))
	symlink(t, "../../bob/b1/replay.mp4", filepath.Join(a, "steal"))
	symlink(t, "chain2", filepath.Join(a, "chain1"))
	symlink(t, "../../bob/b1/replay.mp4", filepath.Join(a, "chain2"))
	symlink(t, "loop", filepath.Join(a, "loop"))
	symlink(t, "replay.mp4", filepath.Join(a, "same.mp4")) // stays inside alice: allowed
	symlink(t, "../fifo2", filepath.Join(a, "tofifo"))
	mkfifo(t, filepath.Join(a, "fifo"))
	mkfifo(t, filepath.Join(root, "broadcasts/alice/fifo2"))
	mksocket(t, filepath.Join(a, "sock"))
	if os.Geteuid() == 0 { // CI runs as root: a real device node too
		if err := syscall.Mknod(filepath.Join(a, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
			t.Fatal(err)
		}
	}
	symlink(t, "b1", filepath.Join(root, "broadcasts/alice/b2"))
	symlink(t, "../bob/b1", filepath.Join(root, "broadcasts/alice/b3"))
	symlink(t, "bob", filepath.Join(root, "broadcasts/thief"))
	return root
}

func TestFolderReadsOnlyWhatIsPhysicallyInside(t *testing.T) {
	root := hostileArchive(t)
	st := newFile(t, root)
	ctx := context.Background()
	f, err := blob.OpenFolder(st, "broadcasts/alice/")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var objects, refused []string
	noHang(t, "ListChecked", func() {
		err = f.ListChecked(ctx, "broadcasts/alice/", func(info blob.Info, err error) error {
			switch {
			case blob.IsRefused(err):
				if !strings.Contains(err.Error(), info.Key) {
					t.Errorf("refusal %q does not name %s", err, info.Key)
				}
				refused = append(refused, strings.TrimPrefix(info.Key, "broadcasts/alice/"))
			case err != nil:
				return err
			default:
				objects = append(objects, strings.TrimPrefix(info.Key, "broadcasts/alice/"))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b1/broadcast.json", "b1/replay.mp4", "b1/same.mp4"}; !slices.Equal(objects, want) {
		t.Errorf("objects %q, want %q", objects, want)
	}
	wantRefused := []string{"b1/absolute", "b1/chain1", "b1/chain2", "b1/chat.jsonl", "b1/fifo", "b1/loop",
		"b1/sock", "b1/steal", "b1/tofifo", "b1/zero", "b2", "b3", "fifo2"}
	if os.Geteuid() == 0 {
		wantRefused = append(wantRefused, "b1/null")
		slices.Sort(wantRefused)
	}
	if !slices.Equal(refused, wantRefused) {
		t.Errorf("refused %q, want %q", refused, wantRefused)
	}
	for _, rel := range append(wantRefused, "../bob/b1/replay.mp4", "b1/../../bob/b1/replay.mp4", "b3/replay.mp4") {
		key := "broadcasts/alice/" + rel
		noHang(t, "Get "+key, func() {
			rc, err := f.Get(ctx, key)
			if err == nil {
				rc.Close()
				t.Errorf("Get %s: read it", key)
			} else if !blob.IsRefused(err) || !strings.Contains(err.Error(), key) {
				t.Errorf("Get %s = %v, want a refusal naming it", key, err)
			}
		})
	}
	if _, err := f.Get(ctx, "broadcasts/bob/b1/replay.mp4"); !blob.IsRefused(err) {
		t.Errorf("Get of another user's key through alice's folder = %v, want a refusal", err)
	}
	rc, err := f.Get(ctx, "broadcasts/alice/b1/same.mp4")
	if err != nil {
		t.Fatalf("a link inside the folder: %v", err)
	}
	rc.Close()
}

func TestFolderRefusesALinkedUserFolder(t *testing.T) {
	st := newFile(t, hostileArchive(t))
	_, err := blob.OpenFolder(st, "broadcasts/thief/")
	var r *blob.RefusedError
	if !errors.As(err, &r) || r.Key != "broadcasts/thief" {
		t.Fatalf("OpenFolder of a linked user folder = %v, want a refusal naming it", err)
	}
	f, err := blob.OpenFolder(st, "broadcasts/nobody/")
	if err != nil {
		t.Fatalf("a missing folder is an empty one: %v", err)
	}
	n := 0
	f.List(context.Background(), "broadcasts/nobody/", func(blob.Info) error { n++; return nil })
	if n != 0 {
		t.Fatalf("listed %d objects in a missing folder", n)
	}
}

// A store without a folder on disk (here a FileStore hidden behind a
// wrapper) is confined by key: another user's keys and keys with ".."
// parts are refused.
func TestFolderByKey(t *testing.T) {
	st := blob.DryRun{Store: newFile(t, hostileArchive(t))}
	f, err := blob.OpenFolder(st, "broadcasts/alice/")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, key := range []string{"broadcasts/bob/b1/replay.mp4", "broadcasts/alice/../bob/b1/replay.mp4",
		"broadcasts/alice//b1/replay.mp4", "broadcasts/alice/./b1/replay.mp4", "users.jsonl", "broadcasts/alice2/x"} {
		if _, err := f.Get(ctx, key); !blob.IsRefused(err) {
			t.Errorf("Get %s = %v, want a refusal", key, err)
		}
	}
	rc, err := f.Get(ctx, "broadcasts/alice/b1/replay.mp4")
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

// users.jsonl (or any key) that is a FIFO is refused at once.
func TestFileGetRefusesSpecialFiles(t *testing.T) {
	root := t.TempDir()
	mkfifo(t, filepath.Join(root, "users.jsonl"))
	mksocket(t, filepath.Join(root, "sock"))
	symlink(t, "users.jsonl", filepath.Join(root, "link"))
	st := newFile(t, root)
	for _, key := range []string{"users.jsonl", "sock", "link"} {
		noHang(t, "Get "+key, func() {
			if _, err := st.Get(context.Background(), key); !blob.IsRefused(err) {
				t.Errorf("Get %s = %v, want a refusal", key, err)
			}
			if _, err := st.Open(context.Background(), key); !blob.IsRefused(err) {
				t.Errorf("Open %s = %v, want a refusal", key, err)
			}
		})
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	mkfifo(t, fifo)
	noHang(t, "a FIFO as the store's folder", func() {
		fs := newFile(t, fifo)
		if _, err := fs.Get(context.Background(), "users.jsonl"); err == nil {
			t.Error("read through a FIFO")
		}
	})
}
