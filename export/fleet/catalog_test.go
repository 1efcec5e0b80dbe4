package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// writeTree writes files (name -> size, or name -> content for users.jsonl)
// under a temp folder and opens it as a store.
func writeTree(t *testing.T, users string, sizes map[string]int) blob.Store {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{"users.jsonl": []byte(users)}
	for name, n := range sizes {
		files[name] = bytes.Repeat([]byte{'x'}, n)
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := blob.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScan(t *testing.T) {
	src := writeTree(t, strings.Join([]string{
		`{"id":"alice"}`,
		`{"id":"bob"}`,
		`not json`,
		`{"id":"bad id"}`,
		``,
		`{"id":"carol"}`,
		`{"id":"alice"}`,
	}, "\n")+"\n", map[string]int{
		"broadcasts/alice/b1/broadcast.json": 10,
		"broadcasts/alice/b1/replay.mp4":     1000,
		"broadcasts/alice/b2/broadcast.json": 10,
		"broadcasts/alice/b2/replay.mp4":     5000,
		"broadcasts/bob/b1/broadcast.json":   20,
		"broadcasts/ghost/b1/replay.mp4":     300, // not in users.jsonl
		"broadcasts/stray.txt":               7,   // not in a user folder
		"broadcasts/bob/loose.bin":           9,   // not in a broadcast folder: omitted for bob
	})
	c, err := Scan(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "users", c.Users, 3) // alice, bob, carol
	want(t, "with broadcasts", c.UsersWithBroadcasts, 2)
	want(t, "empty", c.EmptyUsers(), 1)
	want(t, "unusable lines", c.UnusableLines, 3) // not json, bad id, alice again
	want(t, "broadcasts", c.Broadcasts, int64(3))
	want(t, "files", c.Files, int64(5))
	want(t, "bytes", c.Bytes, int64(10+1000+10+5000+20))
	want(t, "orphans", c.Orphans, Orphans{Users: 1, Files: 1, Bytes: 300})
	want(t, "stray keys", c.StrayKeys, int64(1))
	want(t, "problems", c.ProblemCount, int64(3)) // not json, bad id, bob's loose.bin
	want(t, "largest", c.Largest, UserSize{ID: "alice", Bytes: 6020, Files: 4})
	want(t, "bob's problem", c.Problems[0].Key, "broadcasts/bob/loose.bin")
	want(t, "listed", c.ListedObjects, int64(8))
	want(t, "scan requests", c.ScanRequests, int64(2)) // users.jsonl + one page
	want(t, "histogram", fmt.Sprint(c.Histogram), fmt.Sprint([]Bucket{
		{Users: 1},                              // carol
		{Min: 16, Max: 64, Users: 1, Bytes: 20}, // bob
		{Min: 64, Max: 256},
		{Min: 256, Max: 1024},
		{Min: 1024, Max: 4096},
		{Min: 4096, Max: 16384, Users: 1, Bytes: 6020}, // alice
	}))
}

func TestScanNeedsUsersJSONL(t *testing.T) {
	s, _ := blob.NewFile(t.TempDir())
	_, err := Scan(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "users.jsonl") {
		t.Fatalf("want an error naming users.jsonl, got %v", err)
	}
}

// TestScanSameOnS3 scans one generated archive from a folder and from a
// real S3 server (versitygw): more than 1,000 objects, so the listing
// takes several pages.
func TestScanSameOnS3(t *testing.T) {
	ctx := context.Background()
	opts := fixtures.Options{Users: 130, Broadcasts: 3, VideoBytes: 2 << 10, Seed: 3, HLSEvery: 4}
	local, err := blob.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := s3test.Start(t)
	remote := srv.Store(t, srv.NewBucket(t), "archive")
	for _, s := range []blob.Store{local, remote} {
		if _, err := fixtures.Generate(ctx, s, opts); err != nil {
			t.Fatal(err)
		}
	}
	a, err := Scan(ctx, local)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Scan(ctx, remote)
	if err != nil {
		t.Fatal(err)
	}
	if a.ListedObjects <= 1000 {
		t.Fatalf("only %d objects: the listing should take more than one page", a.ListedObjects)
	}
	want(t, "users", a.Users, 130)
	want(t, "broadcasts", a.Broadcasts, int64(390))
	a.Source, b.Source = "", ""
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Errorf("folder and S3 catalogs differ:\n%s\n%s", ja, jb)
	}
}

// One bad user never makes the plan fail: links out of a user's folder, a
// linked user folder, FIFOs and deceptive names are counted and listed as
// problems, and the rest is planned.
func TestScanListsProblemsAndPlansTheRest(t *testing.T) {
	src := writeTree(t, `{"id":"alice"}`+"\n"+`{"id":"thief"}`+"\n"+`{"id":"bob"}`+"\n", map[string]int{
		"broadcasts/alice/b1/broadcast.json": 10,
		"broadcasts/alice/b1/replay.mp4":     100,
		"broadcasts/bob/b1/broadcast.json":   10,
	})
	dir := src.String()
	b1 := filepath.Join(dir, "broadcasts/alice/b1")
	for _, err := range []error{
		os.Symlink("../../../users.jsonl", filepath.Join(b1, "chat.jsonl")),
		os.Symlink("/etc/passwd", filepath.Join(b1, "passwd")),
		os.Symlink("../../bob/b1/broadcast.json", filepath.Join(b1, "bob.json")),
		syscall.Mkfifo(filepath.Join(b1, "pipe.ts"), 0o644),
		os.WriteFile(filepath.Join(b1, "clip\u202Egpj.exe"), []byte("x"), 0o644),
		os.Symlink("alice", filepath.Join(dir, "broadcasts/thief")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := Scan(context.Background(), src)
	if err != nil {
		t.Fatalf("plan failed because of one bad user: %v", err)
	}
	want(t, "users", c.Users, 3)
	want(t, "files", c.Files, int64(3))
	want(t, "bytes", c.Bytes, int64(120))
	want(t, "problems", c.ProblemCount, int64(6))
	var keys []string
	for _, p := range c.Problems {
		keys = append(keys, p.Key)
	}
	want(t, "problem keys", strings.Join(keys, " "), "broadcasts/alice/b1/bob.json broadcasts/alice/b1/chat.jsonl "+
		`broadcasts/alice/b1/clip\u202Egpj.exe broadcasts/alice/b1/passwd broadcasts/alice/b1/pipe.ts broadcasts/thief`)
}

// An error names the source and the key with a slash between them.
func TestScanErrorJoinsPathWithASlash(t *testing.T) {
	dir := t.TempDir()
	s, _ := blob.NewFile(dir)
	_, err := Scan(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), dir+"/users.jsonl") {
		t.Fatalf("error %v, want it to name %s/users.jsonl", err, dir)
	}
}

// A broadcasts/ folder that is a link is listed as a problem, not taken
// for an archive without broadcasts.
func TestScanReportsALinkedBroadcastsFolder(t *testing.T) {
	src := writeTree(t, `{"id":"alice"}`+"\n", map[string]int{"media/alice/b1/broadcast.json": 10})
	if err := os.Symlink("media", filepath.Join(src.String(), "broadcasts")); err != nil {
		t.Fatal(err)
	}
	c, err := Scan(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if c.ProblemCount != 1 || c.Problems[0].Key != "broadcasts" {
		t.Fatalf("problems %d %+v, want the linked broadcasts folder", c.ProblemCount, c.Problems)
	}
}
