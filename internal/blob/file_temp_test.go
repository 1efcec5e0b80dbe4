package blob_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// Files whose names look like temporaries are real files: List shows them.
// Only the store's own temporary folder at the top is hidden.
func TestFileListShowsTempLookingNames(t *testing.T) {
	dir := t.TempDir()
	want := []string{
		"a/.x.partial-0123456789abcdef",
		"a/put-0123456789abcdef",
		"a/x.partial-1",
		"b/" + blob.TempDir + "/nested-is-not-ours",
		"x.partial-1",
	}
	for _, k := range want {
		writeFile(t, filepath.Join(dir, k), k)
	}
	writeFile(t, filepath.Join(dir, blob.TempDir, "put-0123"), "in flight")
	var got []string
	err := newFile(t, dir).List(context.Background(), "", func(i blob.Info) error {
		got = append(got, i.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("List = %q\nwant %q", got, want)
	}
}

// A Put leaves nothing but its object; a temporary left by a killed writer
// (unlocked) is removed by the next process's first write.
func TestFilePutLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, blob.TempDir, "put-00000000deadbeef")
	writeFile(t, stale, "left by a killed run")
	s := newFile(t, dir)
	for _, k := range []string{"u/a.zip", "u/manifest.json", "_runs/r.json"} {
		if _, err := s.Put(context.Background(), k, strings.NewReader("x"), blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(context.Background(), "u/a.zip", strings.NewReader("y"), blob.PutOptions{IfNoneMatch: true}); err == nil {
		t.Fatal("IfNoneMatch over an existing key succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, blob.TempDir)); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(filepath.Join(dir, blob.TempDir))
		t.Errorf("temporary folder still there (%v): %v", err, entries)
	}
	fi, err := os.Stat(filepath.Join(dir, "u", "a.zip"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("object mode %v, %v; want 0644", fi.Mode().Perm(), err)
	}
}
