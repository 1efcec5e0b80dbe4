package main

import (
	"archive/zip"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// leftovers lists what temporaries stay: files in the destination's
// temporary folder or with the old .partial- names, and anything in the
// test's own TMPDIR.
func leftovers(t *testing.T, dest, tmpdir string) []string {
	t.Helper()
	var left []string
	filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dest, p)
		if strings.HasPrefix(rel, blob.TempDir) || strings.Contains(d.Name(), ".partial-") {
			left = append(left, "dest/"+rel)
		}
		return nil
	})
	entries, _ := os.ReadDir(tmpdir)
	for _, e := range entries {
		left = append(left, "TMPDIR/"+e.Name())
	}
	return left
}

// After SIGKILLs mid-export and a finished rerun, no temporary file stays
// in a local destination and none in TMPDIR (remuxing HLS with ffmpeg).
func TestCrashLeavesNothingBehind(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg not found: run scripts/install-deps")
	}
	root := t.TempDir()
	src, dest, tmpdir := filepath.Join(root, "src"), filepath.Join(root, "dest"), filepath.Join(root, "tmp")
	os.Mkdir(tmpdir, 0o755)
	run(t, nil, "fixtures", "generate", "--out", src, "--users", "8", "--broadcasts", "2",
		"--video-bytes", "8MiB", "--hls-every", "2").want(t, 0)
	env := []string{"TMPDIR=" + tmpdir}
	args := []string{"export", "--source", src, "--dest", dest, "--workers", "4", "--remux", "require", "--progress", "none"}
	rng := rand.New(rand.NewPCG(11, 11))
	killed, leftBehind := 0, 0
	for range 4 {
		p := startBinary(t, env, args...)
		// Kill while temporaries exist (a write or a remux in flight), a
		// seeded moment later, so every kill lands mid-write; a run that
		// shows none within 5 s is killed anyway.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if len(leftovers(t, dest, tmpdir)) > 0 {
				break
			}
		}
		time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		if !p.cmd.ProcessState.Exited() {
			killed++
		}
		leftBehind += len(leftovers(t, dest, tmpdir))
	}
	if killed == 0 {
		t.Fatal("every run finished before it was killed; the test did not test a crash")
	}
	t.Logf("%d runs killed; %d temporaries seen between kills", killed, leftBehind)
	r := run(t, env, args...).want(t, 0)
	if !strings.Contains(r.stdout, "failed 0 users") {
		t.Fatal(r.stdout)
	}
	if left := leftovers(t, dest, tmpdir); len(left) > 0 {
		t.Errorf("left behind after a finished rerun: %v", left)
	}
	if st := run(t, nil, "status", "--dest", dest, "--source", src).want(t, 0); !strings.Contains(st.stdout, "done      8 users") {
		t.Errorf("status after the rerun:\n%s", st.stdout)
	}
}

// Source files whose names look like temporaries (the old .partial- names
// included) are exported like any other file.
func TestTempLookingSourceFilesExported(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.CopyFS(src, os.DirFS(samplePath(t))); err != nil {
		t.Fatal(err)
	}
	bdir, _ := filepath.Glob(filepath.Join(src, "broadcasts", "frank", "*"))
	if len(bdir) == 0 {
		t.Fatal("sample has no broadcast for frank")
	}
	names := []string{"x.partial-1", ".replay.mp4.partial-0123456789abcdef", "put-0123456789abcdef", "notes.tmp"}
	for _, n := range names {
		os.WriteFile(filepath.Join(bdir[0], n), []byte("a real file called "+n+"\n"), 0o644)
	}
	dest := t.TempDir()
	run(t, nil, "export", "--source", src, "--dest", dest, "--users", usersFile(t, "frank"), "--progress", "none").want(t, 0)
	zr, err := zip.OpenReader(filepath.Join(dest, "frank", "periscope-frank.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]bool{}
	for _, f := range zr.File {
		got[filepath.Base(f.Name)] = true
	}
	for _, n := range names {
		if !got[n] {
			t.Errorf("source file %s was not exported", n)
		}
	}
}
