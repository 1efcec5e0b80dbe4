package tmpfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/tmpfile"
)

func openRoot(t *testing.T) (*os.Root, string) {
	t.Helper()
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir
}

// A sweep removes what no process holds (a killed writer's file) and never
// a file its creator still has open.
func TestSweepRemovesOnlyUnheldFiles(t *testing.T) {
	r, dir := openRoot(t)
	d := tmpfile.Dir{Root: r, Name: "tmp"}
	live, liveName, err := d.Create("put-", "")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	dead, deadName, err := d.Create("put-", "")
	if err != nil {
		t.Fatal(err)
	}
	dead.Close() // as the kernel does for a process killed with SIGKILL
	if n, err := d.Sweep(); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 removed", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, deadName)); !os.IsNotExist(err) {
		t.Errorf("unheld %s still there (%v)", deadName, err)
	}
	if _, err := os.Stat(filepath.Join(dir, liveName)); err != nil {
		t.Errorf("held %s was removed: %v", liveName, err)
	}
	if !strings.HasPrefix(live.Name(), dir) {
		t.Errorf("Name() = %q, want the full path under %s", live.Name(), dir)
	}
	live.Close()
	if n, _ := d.Sweep(); n != 1 {
		t.Errorf("second sweep removed %d, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp")); !os.IsNotExist(err) {
		t.Errorf("empty folder left: %v", err)
	}
	// Create works again once the folder is gone.
	f, _, err := d.Create("put-", "")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestSweepMissingFolder(t *testing.T) {
	r, _ := openRoot(t)
	if n, err := (tmpfile.Dir{Root: r, Name: "nope"}).Sweep(); n != 0 || err != nil {
		t.Fatalf("Sweep = %d, %v", n, err)
	}
}

// In a shared place a folder someone else can write into is refused.
func TestPrivateFolderRefusesOpenModes(t *testing.T) {
	r, dir := openRoot(t)
	os.Mkdir(filepath.Join(dir, "shared"), 0o777)
	os.Chmod(filepath.Join(dir, "shared"), 0o777) // past the umask
	d := tmpfile.Dir{Root: r, Name: "shared", Private: true}
	if f, _, err := d.Create("remux-", ".mp4"); err == nil {
		f.Close()
		t.Fatal("created a temporary in a world-writable folder")
	}
	os.Symlink(dir, filepath.Join(dir, "link"))
	if f, _, err := (tmpfile.Dir{Root: r, Name: "link", Private: true}).Create("remux-", ".mp4"); err == nil {
		f.Close()
		t.Fatal("created a temporary through a symlinked folder")
	}
	f, _, err := (tmpfile.Dir{Root: r, Name: "mine", Private: true}).Create("remux-", ".mp4")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(filepath.Join(dir, "mine")); fi.Mode().Perm() != 0o700 {
		t.Errorf("private folder made with mode %v", fi.Mode().Perm())
	}
}

// Creating while another process sweeps, over and over: no creator loses
// its file, and the folder may come and go under them.
func TestCreateRacesSweep(t *testing.T) {
	r, dir := openRoot(t)
	d := tmpfile.Dir{Root: r, Name: "tmp"}
	stop := make(chan struct{})
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		for {
			select {
			case <-stop:
				return
			default:
				d.Sweep()
			}
		}
	}()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var err error
			for range 100 {
				var f *os.File
				var name string
				if f, name, err = d.Create("put-", ""); err != nil {
					break
				}
				if _, err = f.WriteString("data"); err == nil {
					_, err = os.Stat(filepath.Join(dir, name)) // still there while held
				}
				f.Close()
				r.Remove(name)
				if err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(stop)
	<-swept
}

// A temporary folder that is a symlink is neither used nor swept: a sweep
// through it would remove the real files it points at.
func TestSymlinkedFolderNeverSwept(t *testing.T) {
	r, dir := openRoot(t)
	os.Mkdir(filepath.Join(dir, "exports"), 0o755)
	real := filepath.Join(dir, "exports", "manifest.json")
	os.WriteFile(real, []byte("{}"), 0o644)
	os.Symlink("exports", filepath.Join(dir, "tmp"))
	d := tmpfile.Dir{Root: r, Name: "tmp"}
	if n, err := d.Sweep(); err == nil || n != 0 {
		t.Errorf("Sweep through a symlink = %d, %v; want an error", n, err)
	}
	if _, err := os.Stat(real); err != nil {
		t.Fatalf("a sweep removed a real file: %v", err)
	}
	if f, _, err := d.Create("put-", ""); err == nil {
		f.Close()
		t.Error("created a temporary through a symlinked folder")
	}
}
