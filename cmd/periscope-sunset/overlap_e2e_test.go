package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// treeSnapshot lists every path under dir with its size and mtime.
func treeSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		snap[p] = fi.Mode().String() + " " + fi.ModTime().String() + " " + fmt.Sprint(fi.Size())
		return nil
	})
	return snap
}

func wantOverlapRefused(t *testing.T, r result, args []string) {
	t.Helper()
	if r.code != exitFailed || !strings.Contains(r.stderr, "overlap") || !strings.Contains(r.stderr, "nothing was written") {
		t.Errorf("%v: exit %d, want %d with an overlap error\nstdout:\n%s\nstderr:\n%s", args, r.code, exitFailed, r.stdout, r.stderr)
	}
}

// export refuses a --dest that is --source or either inside the other,
// however it is spelled, and writes nothing.
func TestExportRefusesOverlappingDestLocal(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	if err := os.CopyFS(src, os.DirFS(samplePath(t))); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(root, "alias")); err != nil {
		t.Fatal(err)
	}
	before := treeSnapshot(t, root)
	for _, pair := range [][2]string{
		{src, src},
		{src, src + "/"},
		{src, src + "/exports"},
		{src, "file://" + src + "/exports"},
		{"file://" + src, src + "/../src/out"},
		{src + "/broadcasts", src},
		{src, root},
		{src, filepath.Join(root, "alias", "out")},
		{filepath.Join(root, "alias"), src},
	} {
		args := []string{"export", "--source", pair[0], "--dest", pair[1], "--progress", "none"}
		wantOverlapRefused(t, run(t, nil, args...), args)
	}
	if after := treeSnapshot(t, root); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused export changed the file tree:\nbefore %v\nafter  %v", before, after)
	}
	// A separate destination still works.
	run(t, nil, "export", "--source", src, "--dest", filepath.Join(root, "exports"), "--progress", "none").want(t, 0)
}

func TestExportRefusesOverlappingDestS3(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	generateS3(t, srv, bucket, "src", fixtures.Options{Users: 2, Broadcasts: 1, VideoBytes: 64 << 10, Seed: 1})
	keys := func() []string {
		var ks []string
		err := srv.Store(t, bucket, "").List(context.Background(), "", func(i blob.Info) error {
			ks = append(ks, i.Key+" "+i.ETag)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	before := keys()
	b := "s3://" + bucket
	for _, pair := range [][2]string{
		{b + "/src", b + "/src"},
		{b + "/src", b + "/src/"},
		{b + "/src/", b + "/src/out"},
		{b + "/src", b},
		{b + "/src", b + "/"},
		{b + "/src", "s3://" + strings.ToUpper(bucket) + "/src/out"},
	} {
		args := []string{"export", "--source", pair[0], "--dest", pair[1], "--s3-path-style", "--progress", "none"}
		wantOverlapRefused(t, run(t, srv.Env(), args...), args)
	}
	if after := keys(); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused export changed the bucket:\nbefore %v\nafter  %v", before, after)
	}
	// A sibling prefix that only shares a name prefix is not an overlap.
	run(t, srv.Env(), "export", "--source", b+"/src", "--dest", b+"/src-exports", "--s3-path-style", "--progress", "none").want(t, 0)
}
