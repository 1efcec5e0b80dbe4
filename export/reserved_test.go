package export

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A user id that is, or could become, a name the tool owns in the
// destination is refused with a reason; the tool's own files stay intact.
func TestReservedUserIDsAreRefused(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	for _, id := range []string{"_runs", "_RUNS", "_claims", "_"} {
		appendLine(t, srcDir, `{"id":"`+id+`","username":"x"}`)
		must(t, os.MkdirAll(filepath.Join(srcDir, "broadcasts", id, "b1"), 0o755))
		must(t, os.WriteFile(filepath.Join(srcDir, "broadcasts", id, "b1", "broadcast.json"), []byte(`{}`), 0o644))
	}
	rep := runExport(t, fileStore(t, srcDir), fileStore(t, dstDir), Options{})
	if rep.Users.Failed != 4 {
		t.Fatalf("failed %d, want the 4 reserved ids: %+v", rep.Users.Failed, rep.Failures)
	}
	for _, f := range rep.Failures {
		if !strings.Contains(f.Reason, "reserved for the tool") {
			t.Errorf("failure %+v does not say the id is reserved", f)
		}
	}
	for _, id := range []string{"_RUNS", "_claims", "_"} {
		if _, err := os.Stat(filepath.Join(dstDir, id)); err == nil {
			t.Errorf("a folder %s was written for a reserved id", id)
		}
	}
	if _, err := os.Stat(filepath.Join(dstDir, "_runs", ManifestName)); err == nil {
		t.Error("a manifest was written into _runs")
	}
}

// status counts users only: not the run reports, not claims, not stray
// objects in the tool's folders or at the top of the destination.
func TestStatusNeverCountsToolFiles(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	src, dst := fileStore(t, srcDir), fileStore(t, dstDir)
	runExport(t, src, dst, Options{})
	want, err := ReadStatus(context.Background(), dst, src)
	must(t, err)
	for _, f := range []string{"_runs/.claim.json", "_runs/manifest.json", "_runs/periscope-_runs.zip",
		"_runs/sub/manifest.json", "_runs/notes.json", ".claim.json", ".hidden/manifest.json",
		".hidden/periscope-x.zip", "_tmp/periscope-_tmp.zip", "_tmp/manifest.json", "stray.zip"} {
		p := filepath.Join(dstDir, f)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(`{"user_id":"x","shard_index":0,"shard_count":1}`), 0o644))
	}
	got, err := ReadStatus(context.Background(), dst, src)
	must(t, err)
	if got.Done != want.Done || got.InFlight != 0 || got.Runs != 1 || got.Failed != want.Failed ||
		got.Pending != want.Pending || got.Bytes != want.Bytes {
		t.Fatalf("with tool files: done %d in-flight %d runs %d failed %d pending %d bytes %d; "+
			"want done %d in-flight 0 runs 1 failed %d pending %d bytes %d", got.Done, got.InFlight, got.Runs,
			got.Failed, got.Pending, got.Bytes, want.Done, want.Failed, want.Pending, want.Bytes)
	}
}
