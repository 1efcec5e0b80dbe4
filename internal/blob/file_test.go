package blob_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/blob/blobtest"
)

func TestFileConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newFile(t, t.TempDir()) })
}

func newFile(t *testing.T, dir string) *blob.FileStore {
	t.Helper()
	st, err := blob.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileSymlinkInsideRoot(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "real/video.mp4"), "video")
	if err := os.MkdirAll(filepath.Join(root, "linked"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../real/video.mp4", filepath.Join(root, "linked/video.mp4")); err != nil {
		t.Fatal(err)
	}
	st := newFile(t, root)
	rc, err := st.Get(context.Background(), "linked/video.mp4")
	if err != nil {
		t.Fatalf("Get through symlink: %v", err)
	}
	rc.Close()
	var keys []string
	err = st.List(context.Background(), "linked/", func(i blob.Info) error {
		keys = append(keys, i.Key)
		if i.Size != 5 {
			t.Errorf("List %s: size %d, want the target's 5", i.Key, i.Size)
		}
		return nil
	})
	if err != nil || len(keys) != 1 || keys[0] != "linked/video.mp4" {
		t.Errorf("List = %q, %v; want the symlink listed", keys, err)
	}
}

func TestFileSymlinkOutsideRoot(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	writeFile(t, outside, "secret")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "u"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "u/escape")); err != nil {
		t.Fatal(err)
	}
	st := newFile(t, root)
	if _, err := st.Get(context.Background(), "u/escape"); err == nil || !strings.Contains(err.Error(), "u/escape") {
		t.Errorf("Get of an escaping symlink = %v, want an error naming it", err)
	}
	err := st.List(context.Background(), "", func(i blob.Info) error {
		t.Errorf("List offered %s", i.Key)
		return nil
	})
	if err != nil {
		t.Errorf("List over an escaping symlink = %v, want it skipped", err)
	}
	var refused []error
	err = st.ListChecked(context.Background(), "", func(_ blob.Info, err error) error {
		refused = append(refused, err)
		return nil
	})
	if err != nil || len(refused) != 1 || !blob.IsRefused(refused[0]) || !strings.Contains(refused[0].Error(), "u/escape") {
		t.Errorf("ListChecked over an escaping symlink = %v, %v; want one refusal naming it", refused, err)
	}
}

func TestFileBadKeys(t *testing.T) {
	root := t.TempDir()
	st := newFile(t, filepath.Join(root, "store"))
	writeFile(t, filepath.Join(root, "outside.txt"), "outside")
	ctx := context.Background()
	for _, key := range []string{"", "..", "../outside.txt", "a/../../outside.txt", "/etc/passwd", "a//b", "./a", "a/"} {
		t.Run(key, func(t *testing.T) {
			if _, err := st.Get(ctx, key); err == nil {
				t.Error("Get accepted it")
			}
			if _, err := st.Stat(ctx, key); err == nil {
				t.Error("Stat accepted it")
			}
			if _, err := st.Put(ctx, key, strings.NewReader("x"), blob.PutOptions{}); err == nil {
				t.Error("Put accepted it")
			}
			if err := st.Delete(ctx, key); err == nil {
				t.Error("Delete accepted it")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(root, "outside.txt")); err != nil {
		t.Errorf("file outside the root: %v", err)
	}
}

func TestFileMissingRoot(t *testing.T) {
	st := newFile(t, filepath.Join(t.TempDir(), "not-yet"))
	if _, err := st.Stat(context.Background(), "k"); !errors.Is(err, blob.ErrNotExist) {
		t.Errorf("Stat = %v, want ErrNotExist", err)
	}
	if err := st.List(context.Background(), "", func(blob.Info) error { return nil }); err != nil {
		t.Errorf("List = %v, want nothing", err)
	}
}
