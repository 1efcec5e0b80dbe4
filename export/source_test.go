package export

import (
	"bytes"
	"context"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// noHang runs fn and fails the test if it has not returned within two
// minutes: an export that blocks on a FIFO must fail, not wait forever.
func noHang(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: still blocked after two minutes", what)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// breakIntoOthers plants, in frank's only broadcast, every way of reaching
// data that is not frank's, and adds a user "thief" whose folder is a link
// to alice's. It returns the planted names.
func breakIntoOthers(t *testing.T, src string) []string {
	b := oneBroadcast(t, src, "frank")
	victim := oneBroadcast(t, src, "alice")
	os.Remove(filepath.Join(b, "chat.jsonl"))
	must(t, os.Symlink("../../../users.jsonl", filepath.Join(b, "chat.jsonl")))
	must(t, os.Symlink(filepath.Join(victim, "broadcast.json"), filepath.Join(b, "absolute.json")))
	must(t, os.Symlink("../../alice/"+filepath.Base(victim)+"/broadcast.json", filepath.Join(b, "other-user.json")))
	must(t, os.Symlink("hop2", filepath.Join(b, "hop1")))
	must(t, os.Symlink("../../../users.jsonl", filepath.Join(b, "hop2")))
	must(t, os.Symlink("/dev/zero", filepath.Join(b, "zero.mp4")))
	must(t, syscall.Mkfifo(filepath.Join(b, "pipe.ts"), 0o644))
	l, err := net.Listen("unix", filepath.Join(b, "sock"))
	must(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	must(t, os.Symlink("../alice/"+filepath.Base(victim), filepath.Join(src, "broadcasts", "frank", "1LinkedFolder")))
	must(t, os.Symlink("alice", filepath.Join(src, "broadcasts", "thief")))
	appendLine(t, src, `{"id":"thief","username":"thief"}`)
	return []string{"chat.jsonl", "absolute.json", "other-user.json", "hop1", "hop2", "zero.mp4", "pipe.ts", "sock",
		"1LinkedFolder", "broadcasts/thief"}
}

// No export may hold another user's bytes: neither users.jsonl nor a file
// of alice's may appear in any export but alice's own.
func checkNoCrossing(t *testing.T, srcDir, dstDir string) {
	t.Helper()
	users, _ := os.ReadFile(filepath.Join(srcDir, UsersKey))
	victim, _ := os.ReadFile(filepath.Join(oneBroadcast(t, srcDir, "alice"), "broadcast.json"))
	dst := fileStore(t, dstDir)
	exported, err := ListExported(context.Background(), dst)
	must(t, err)
	for _, uid := range exported {
		dir := extractExport(t, dst, uid)
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := os.ReadFile(p)
			if bytes.Equal(b, users) || uid != "alice" && bytes.Equal(b, victim) {
				t.Errorf("export of %s holds another's data at %s", uid, p)
			}
			return nil
		})
	}
}

func TestExportNeverCrossesAUsersFolder(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	planted := breakIntoOthers(t, srcDir)
	var rep *Report
	noHang(t, "export", func() {
		rep = runExport(t, fileStore(t, srcDir), fileStore(t, dstDir), Options{})
	})
	checkNoCrossing(t, srcDir, dstDir)
	if len(rep.Failures) != 0 {
		t.Fatalf("failures %+v; want frank and thief exported with omissions", rep.Failures)
	}
	byUser := map[string]string{}
	for _, o := range rep.Omitted {
		byUser[o.User] += o.String() + "\n"
	}
	for _, name := range planted[:len(planted)-1] {
		if !strings.Contains(byUser["frank"], "/"+name+": ") {
			t.Errorf("frank's %s is not reported omitted; frank's omissions:\n%s", name, byUser["frank"])
		}
	}
	if !strings.Contains(byUser["thief"], "broadcasts/thief: a symbolic link") {
		t.Errorf("the linked user folder is not reported; thief's omissions:\n%s", byUser["thief"])
	}
	m, err := ReadManifest(context.Background(), fileStore(t, dstDir), "thief")
	must(t, err)
	if m.Broadcasts != 0 || len(m.Omitted) != 1 {
		t.Errorf("thief's manifest: %d broadcasts, omitted %+v; want none and the one omission", m.Broadcasts, m.Omitted)
	}
	t.Logf("omissions:\n%s%s", byUser["frank"], byUser["thief"])
}

// A users.jsonl that is a FIFO (or a link out of the source) is refused at
// once: the run cannot proceed, and says why.
func TestExportRefusesSpecialUsersJSONL(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(p string) error
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"link to /dev/zero", func(p string) error { return os.Symlink("/dev/zero", p) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcDir := copySample(t)
			os.Remove(filepath.Join(srcDir, UsersKey))
			must(t, tc.plant(filepath.Join(srcDir, UsersKey)))
			var err error
			noHang(t, "export", func() {
				_, err = Run(context.Background(), fileStore(t, srcDir), fileStore(t, t.TempDir()), Options{})
			})
			if err == nil || !strings.Contains(err.Error(), UsersKey) {
				t.Fatalf("export = %v, want an error naming %s", err, UsersKey)
			}
		})
	}
}

// status counts the users exported with omissions, from their manifests:
// a user exported whole by a later run no longer counts.
func TestStatusCountsUsersWithOmissions(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	planted := breakIntoOthers(t, srcDir)
	src, dst := fileStore(t, srcDir), fileStore(t, dstDir)
	runExport(t, src, dst, Options{})
	st, err := ReadStatus(context.Background(), dst, src)
	must(t, err)
	if st.WithOmissions != 2 || st.Failed != 0 || st.Done != len(sampleUsers(t, srcDir)) {
		t.Fatalf("status: %d with omissions, %d failed, %d done; want 2 (frank, thief), 0, all", st.WithOmissions,
			st.Failed, st.Done)
	}
	b := oneBroadcast(t, srcDir, "frank")
	for _, name := range planted[:len(planted)-2] {
		must(t, os.Remove(filepath.Join(b, name)))
	}
	must(t, os.Remove(filepath.Join(srcDir, "broadcasts", "frank", "1LinkedFolder")))
	must(t, os.WriteFile(filepath.Join(b, "chat.jsonl"), []byte(`{"offset_ms":0,"user":"x","text":"hi"}`+"\n"), 0o644))
	rep := runExport(t, src, dst, Options{})
	if rep.Users.Exported != 1 || rep.Users.WithOmissions != 0 {
		t.Fatalf("rerun: exported %d, %d with omissions; want frank alone, whole", rep.Users.Exported, rep.Users.WithOmissions)
	}
	st, err = ReadStatus(context.Background(), dst, src)
	must(t, err)
	if st.WithOmissions != 1 || len(st.Omitted) != 1 || st.Omitted[0].User != "thief" {
		t.Fatalf("status after the fix: %d with omissions %+v; want thief alone", st.WithOmissions, st.Omitted)
	}
}

// A broadcasts/ folder that is a link is every user's problem: each user
// fails with the reason, rather than getting a "complete" empty export.
func TestLinkedBroadcastsFolderFailsLoudly(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	real := filepath.Join(t.TempDir(), "media")
	must(t, os.Rename(filepath.Join(srcDir, "broadcasts"), real))
	must(t, os.Symlink(real, filepath.Join(srcDir, "broadcasts")))
	rep := runExport(t, fileStore(t, srcDir), fileStore(t, dstDir), Options{})
	if rep.Users.Exported != 0 || rep.Users.Failed != len(sampleUsers(t, srcDir)) ||
		!strings.Contains(rep.Failures[0].Reason, "broadcasts: a symbolic link") {
		t.Fatalf("report %+v %+v; want every user failed naming broadcasts", rep.Users, rep.Failures)
	}
}
