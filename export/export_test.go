package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/bagcheck"
)

func TestExportSample(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	src, dst := fileStore(t, srcDir), fileStore(t, dstDir)
	rep := runExport(t, src, dst, Options{})
	users := sampleUsers(t, srcDir)
	if rep.Users.Exported != len(users) || rep.Users.Failed != 0 {
		t.Fatalf("report %+v, want %d exported", rep.Users, len(users))
	}
	for _, uid := range users {
		t.Run(uid, func(t *testing.T) {
			bag := extractExport(t, dst, uid)
			bagcheck.Validate(t, bag)
			checkPayloadMatchesSource(t, srcDir, bag, uid)
			checkViewerListsBroadcasts(t, srcDir, bag, uid)
		})
	}
	if _, err := Verify(context.Background(), dst, VerifyOptions{}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dstDir, filepath.FromSlash(rep.Key()))); err != nil {
		t.Fatalf("run report: %v", err)
	}
}

// checkPayloadMatchesSource compares every source object of the user with
// the bag's copy, byte for byte, and the other way round.
func checkPayloadMatchesSource(t *testing.T, srcDir, bag, uid string) {
	srcRoot := filepath.Join(srcDir, "broadcasts", uid)
	n := 0
	filepath.WalkDir(srcRoot, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(srcRoot, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(bag, "data", "broadcasts", rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: bag copy differs from source (%v)", rel, err)
		}
		n++
		return nil
	})
	entries, _ := filepath.Glob(filepath.Join(bag, "data", "broadcasts", "*", "*"))
	if n == 0 && len(entries) != 0 {
		t.Errorf("user without source broadcasts has %d files in the bag", len(entries))
	}
	var profile map[string]any
	b, _ := os.ReadFile(filepath.Join(bag, "data", "profile.json"))
	if err := json.Unmarshal(b, &profile); err != nil || profile["id"] != uid {
		t.Errorf("profile.json: %v, id %v", err, profile["id"])
	}
}

func checkViewerListsBroadcasts(t *testing.T, srcDir, bag, uid string) {
	page, err := os.ReadFile(filepath.Join(bag, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bj := range globBroadcasts(t, srcDir, uid) {
		b, err := ParseBroadcast(bj)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), `id="b-`+b.ID+`"`) ||
			!strings.Contains(string(page), html.EscapeString(b.Title)) && b.Title != "" {
			t.Errorf("index.html does not list broadcast %s (%q)", b.ID, b.Title)
		}
	}
	if bytes.Contains(page, []byte("<script")) || bytes.Contains(page, []byte("http://")) || bytes.Contains(page, []byte("https://")) {
		t.Error("index.html must work offline: no scripts, no network URLs")
	}
}

func globBroadcasts(t *testing.T, srcDir, uid string) [][]byte {
	files, _ := filepath.Glob(filepath.Join(srcDir, "broadcasts", uid, "*", "broadcast.json"))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestResumeSkipsUnchangedAndRedoesChanged(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	src, dst := fileStore(t, srcDir), fileStore(t, dstDir)
	first := runExport(t, src, dst, Options{MaxPartSize: 40 << 10})
	users := len(sampleUsers(t, srcDir))
	if first.Users.Exported != users {
		t.Fatalf("first run: %+v", first.Users)
	}
	partsBefore, _ := filepath.Glob(filepath.Join(dstDir, "alice", "*.zip"))
	if len(partsBefore) < 2 {
		t.Fatalf("want alice split into parts at 40 KiB, got %v", partsBefore)
	}
	second := runExport(t, src, dst, Options{})
	if second.Users.Skipped != users || second.Users.Exported != 0 {
		t.Fatalf("second run: %+v, want all %d skipped", second.Users, users)
	}
	// A changed source file means a new export, in one part now, with the
	// old parts gone.
	chat := filepath.Join(srcDir, "broadcasts", "alice")
	bids, _ := filepath.Glob(filepath.Join(chat, "*"))
	if err := os.WriteFile(filepath.Join(bids[0], "chat.jsonl"), []byte(`{"text":"late"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	third := runExport(t, src, dst, Options{})
	if third.Users.Exported != 1 || third.Users.Skipped != users-1 {
		t.Fatalf("third run: %+v, want alice exported, the rest skipped", third.Users)
	}
	partsAfter, _ := filepath.Glob(filepath.Join(dstDir, "alice", "*.zip"))
	if len(partsAfter) != 1 || filepath.Base(partsAfter[0]) != "periscope-alice.zip" {
		t.Fatalf("after re-export: %v, want just periscope-alice.zip", partsAfter)
	}
	if _, err := Verify(context.Background(), dst, VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestPartsAreZipsOnTheirOwn(t *testing.T) {
	srcDir, dst := copySample(t), fileStore(t, t.TempDir())
	runExport(t, fileStore(t, srcDir), dst, Options{MaxPartSize: 30 << 10})
	m, err := ReadManifest(context.Background(), dst, "alice")
	if err != nil {
		t.Fatal(err)
	}
	n := len(m.Parts)
	if n < 3 {
		t.Fatalf("alice (about 100 KiB) in %d parts at 30 KiB; want 3 or more", n)
	}
	for i, p := range m.Parts {
		if want := partKey("alice", i+1, n); p.Key != want {
			t.Errorf("part %d key %s, want %s", i+1, p.Key, want)
		}
	}
	for _, f := range m.Files {
		if (isTagFile(f.Path) || f.Path == viewerHTML) && f.Part != n {
			t.Errorf("%s in part %d, want the last part %d", f.Path, f.Part, n)
		}
	}
	bagcheck.Validate(t, extractExport(t, dst, "alice"))
}

func TestDryRunWritesNothing(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	rep := runExport(t, fileStore(t, srcDir), blob.DryRun{Store: fileStore(t, dstDir)}, Options{})
	if rep.Users.Exported == 0 || rep.Bytes == 0 {
		t.Fatalf("dry run did no work: %+v", rep)
	}
	if entries, _ := os.ReadDir(dstDir); len(entries) != 0 {
		t.Fatalf("dry run wrote %d entries", len(entries))
	}
}

func TestOnlyAndShardsPartitionUsers(t *testing.T) {
	srcDir := copySample(t)
	users := sampleUsers(t, srcDir)
	const shards = 3
	seen := map[string]int{}
	for i := range shards {
		dst := fileStore(t, t.TempDir())
		runExport(t, fileStore(t, srcDir), dst, Options{ShardIndex: i, ShardCount: shards})
		got, _ := ListExported(context.Background(), dst)
		for _, u := range got {
			seen[u]++
		}
	}
	for _, u := range users {
		if seen[u] != 1 {
			t.Errorf("user %s exported by %d shards, want exactly 1", u, seen[u])
		}
	}
	dst := fileStore(t, t.TempDir())
	runExport(t, fileStore(t, srcDir), dst, Options{Only: map[string]bool{"bob_1": true}})
	if got, _ := ListExported(context.Background(), dst); len(got) != 1 || got[0] != "bob_1" {
		t.Fatalf("--users bob_1 exported %v", got)
	}
}

func TestVerifyFindsFlippedByte(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	dst := fileStore(t, dstDir)
	runExport(t, fileStore(t, srcDir), dst, Options{})
	part := filepath.Join(dstDir, "frank", "periscope-frank.zip")
	b, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x01 // inside the replay
	if err := os.WriteFile(part, b, 0o644); err != nil {
		t.Fatal(err)
	}
	results, err := Verify(context.Background(), dst, VerifyOptions{})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Bad != 1 {
		t.Fatalf("verify after a flipped byte: %v, want exactly one bad export", err)
	}
	for _, r := range results {
		if r.OK() == (r.User == "frank") {
			t.Errorf("%s: ok=%v problems=%v", r.User, r.OK(), r.Problems)
		}
		if r.User == "frank" && !strings.Contains(strings.Join(r.Problems, "\n"), "periscope-frank.zip") {
			t.Errorf("problems do not name the part: %v", r.Problems)
		}
	}
}

func TestVerifyNamesMissingExport(t *testing.T) {
	dst := fileStore(t, t.TempDir())
	results, err := Verify(context.Background(), dst, VerifyOptions{Users: []string{"nobody"}})
	if err == nil || len(results) != 1 || !strings.Contains(results[0].Problems[0], "no manifest.json") {
		t.Fatalf("got %v %+v", err, results)
	}
}

func TestRunNeedsUsersFile(t *testing.T) {
	_, err := Run(context.Background(), fileStore(t, t.TempDir()), fileStore(t, t.TempDir()), Options{})
	if err == nil || !strings.Contains(err.Error(), UsersKey) {
		t.Fatalf("got %v, want an error naming %s", err, UsersKey)
	}
}

func TestRunReportsInterruption(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Run(ctx, fileStore(t, srcDir), fileStore(t, dstDir), Options{Now: func() time.Time { return time.Unix(0, 0) }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	_ = rep
}
