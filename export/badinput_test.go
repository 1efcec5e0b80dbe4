package export

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/names"
)

// What a case of bad input costs.
type badCost int

const (
	costLine      badCost = iota // a users.jsonl line that cannot be used: a failure
	costDuplicate                // a repeated id: reported as a duplicate, not a failure
	costOmission                 // a broadcast or file: omitted, the rest exported
)

type badInputCase struct {
	name   string
	user   string // the user concerned
	cost   badCost
	break_ func(t *testing.T, src string)
	reason string // must appear in the failure or omission
}

func badInputCases(t *testing.T) []badInputCase {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("not yours"), 0o644)
	return []badInputCase{
		{"malformed users.jsonl line", "", costLine, func(t *testing.T, src string) {
			appendLine(t, src, `{"id": "broken",`)
		}, "users.jsonl line 11"},
		{"id outside the allowed pattern", "../evil", costLine, func(t *testing.T, src string) {
			appendLine(t, src, `{"id":"../evil","username":"x"}`)
		}, "invalid user id"},
		{"duplicate user id", "bob_1", costDuplicate, func(t *testing.T, src string) {
			appendLine(t, src, `{"id":"bob_1","username":"again"}`)
		}, "duplicate user id"},
		{"broadcast without broadcast.json", "frank", costOmission, func(t *testing.T, src string) {
			os.Remove(filepath.Join(oneBroadcast(t, src, "frank"), "broadcast.json"))
		}, "missing broadcast.json"},
		{"broadcast.json not JSON", "frank", costOmission, func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(oneBroadcast(t, src, "frank"), "broadcast.json"), []byte("{nope"), 0o644)
		}, "not a JSON object"},
		{"broadcast id outside the pattern", "frank", costOmission, func(t *testing.T, src string) {
			os.Rename(oneBroadcast(t, src, "frank"), filepath.Join(src, "broadcasts", "frank", "b@d id"))
		}, "invalid broadcast id"},
		{"symlink out of the source root", "frank", costOmission, func(t *testing.T, src string) {
			os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(oneBroadcast(t, src, "frank"), "chat.jsonl.x"))
		}, "chat.jsonl.x"},
		{"dangling media file", "frank", costOmission, func(t *testing.T, src string) {
			replay := filepath.Join(oneBroadcast(t, src, "frank"), "replay.mp4")
			os.Remove(replay)
			os.Symlink(filepath.Join(src, "gone.mp4"), replay)
		}, "replay.mp4"},
		{"name with a control character", "frank", costOmission, func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(oneBroadcast(t, src, "frank"), "a\nb.txt"), []byte("x"), 0o644)
		}, "unsafe path"},
		{"name that reorders itself", "frank", costOmission, func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(oneBroadcast(t, src, "frank"), "clip\u202Egpj.exe"), []byte("x"), 0o644)
		}, `clip\u202Egpj.exe`},
		{"FIFO as a media file", "frank", costOmission, func(t *testing.T, src string) {
			must(t, syscall.Mkfifo(filepath.Join(oneBroadcast(t, src, "frank"), "thumbnail.jpg.fifo"), 0o644))
		}, "named pipe"},
	}
}

// Each case breaks the sample archive in one way. A bad users.jsonl line
// fails with a reason naming it; a bad broadcast or file is omitted with
// its reason and the user is exported; every other user is still exported
// and verifies; nothing is written for a failed line.
func TestBadInputCostsOnlyItself(t *testing.T) {
	for _, tc := range badInputCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			srcDir, dstDir := copySample(t), t.TempDir()
			good := sampleUsers(t, srcDir)
			tc.break_(t, srcDir)
			dst := fileStore(t, dstDir)
			var rep *Report
			noHang(t, "export", func() { rep = runExport(t, fileStore(t, srcDir), dst, Options{}) })
			switch tc.cost {
			case costLine:
				if len(rep.Failures) != 1 || !strings.Contains(rep.Failures[0].Reason, tc.reason) ||
					rep.Failures[0].User != tc.user {
					t.Fatalf("failures %+v, want one for user %q mentioning %q", rep.Failures, tc.user, tc.reason)
				}
			case costDuplicate:
				if len(rep.Failures) != 0 || rep.Users.Duplicates != 1 || len(rep.Duplicates) != 1 ||
					rep.Duplicates[0].User != tc.user || !strings.Contains(rep.Duplicates[0].Reason, tc.reason) {
					t.Fatalf("failures %+v duplicates %d %+v, want one duplicate of %s", rep.Failures,
						rep.Users.Duplicates, rep.Duplicates, tc.user)
				}
			case costOmission:
				if len(rep.Failures) != 0 {
					t.Fatalf("failures %+v, want none: the broken part is omitted", rep.Failures)
				}
				checkOmitted(t, rep, dst, tc.user, tc.reason)
			}
			if tc.cost == costLine {
				good = slices.DeleteFunc(good, func(u string) bool { return u == tc.user })
			}
			exported, err := ListExported(context.Background(), dst)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(exported, sorted(good)) {
				t.Fatalf("exported %v, want %v", exported, sorted(good))
			}
			if _, err := Verify(context.Background(), dst, VerifyOptions{}); err != nil {
				t.Fatalf("verify: %v", err)
			}
			checkOnlyUserFolders(t, dstDir, exported)
		})
	}
}

// With --strict, any omission fails the user, as it did before omissions.
func TestStrictFailsTheUserOnAnyOmission(t *testing.T) {
	for _, tc := range badInputCases(t) {
		if tc.cost != costOmission {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			srcDir, dstDir := copySample(t), t.TempDir()
			tc.break_(t, srcDir)
			dst := fileStore(t, dstDir)
			var rep *Report
			noHang(t, "export", func() { rep = runExport(t, fileStore(t, srcDir), dst, Options{Strict: true}) })
			if len(rep.Failures) != 1 || rep.Failures[0].User != tc.user ||
				!strings.Contains(rep.Failures[0].Reason, tc.reason) || !strings.Contains(rep.Failures[0].Reason, "--strict") {
				t.Fatalf("failures %+v, want one for %s mentioning %q and --strict", rep.Failures, tc.user, tc.reason)
			}
			if _, err := ReadManifest(context.Background(), dst, tc.user); !isNotExist(err) {
				t.Fatalf("a manifest was written for %s: %v", tc.user, err)
			}
		})
	}
}

// checkOmitted checks that uid's omission mentioning reason is recorded
// everywhere: the run report, manifest.json and data/omitted.json (which
// manifest-sha256.txt lists like any payload file).
func checkOmitted(t *testing.T, rep *Report, dst blob.Store, uid, reason string) {
	t.Helper()
	has := func(list []Omission) bool {
		return slices.ContainsFunc(list, func(o Omission) bool { return strings.Contains(o.String(), reason) })
	}
	var inReport []Omission
	for _, o := range rep.Omitted {
		if o.User == uid {
			inReport = append(inReport, o.Omission)
		}
	}
	if rep.Users.WithOmissions != 1 || !has(inReport) {
		t.Errorf("report: %d users with omissions, omitted %+v; want %s's omission mentioning %q",
			rep.Users.WithOmissions, rep.Omitted, uid, reason)
	}
	m, err := ReadManifest(context.Background(), dst, uid)
	if err != nil {
		t.Fatal(err)
	}
	if !has(m.Omitted) {
		t.Errorf("manifest omitted %+v, want one mentioning %q", m.Omitted, reason)
	}
	bag := extractExport(t, dst, uid)
	body, err := os.ReadFile(filepath.Join(bag, OmittedName))
	if err != nil {
		t.Fatalf("%s: %v", OmittedName, err)
	}
	var inBag []Omission
	if err := json.Unmarshal(body, &inBag); err != nil || !slices.Equal(inBag, m.Omitted) {
		t.Errorf("%s = %s (%v), want the manifest's %+v", OmittedName, body, err, m.Omitted)
	}
	sums, _ := os.ReadFile(filepath.Join(bag, "manifest-sha256.txt"))
	if !strings.Contains(string(sums), " "+OmittedName+"\n") {
		t.Errorf("manifest-sha256.txt does not list %s:\n%s", OmittedName, sums)
	}
	for _, o := range m.Omitted {
		if names.Check(o.Path) != nil || strings.ContainsAny(o.Reason, "\u202E\n") {
			t.Errorf("omission %+v carries a name that could fool a reader", o)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// checkOnlyUserFolders fails if the destination holds anything but the
// exported users' folders and the run reports.
func checkOnlyUserFolders(t *testing.T, dstDir string, users []string) {
	entries, _ := os.ReadDir(dstDir)
	for _, e := range entries {
		if e.Name() != "_runs" && !slices.Contains(users, e.Name()) {
			t.Errorf("destination holds %q, which is not an exported user's folder", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dstDir), "evil")); err == nil {
		t.Error("something was written outside the destination")
	}
}

func appendLine(t *testing.T, src, line string) {
	f, err := os.OpenFile(filepath.Join(src, UsersKey), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(line + "\n")
}

func oneBroadcast(t *testing.T, src, uid string) string {
	dirs, _ := filepath.Glob(filepath.Join(src, "broadcasts", uid, "*"))
	if len(dirs) == 0 {
		t.Fatalf("sample user %s has no broadcast", uid)
	}
	return dirs[0]
}

func TestCleanRelPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"b1/replay.mp4", true},
		{"b1/hls/segment000.ts", true},
		{"b1/Zoë 🎥.txt", true},
		{"", false},
		{"/etc/passwd", false},
		{"b1/../../x", false},
		{"b1/./x", false},
		{"b1//x", false},
		{`b1\..\x`, false},
		{"b1/a\x00b", false},
		{"b1/\xff", false},
		{"b1/clip\u202Egpj.exe", false},
		{"b1/zero\u200Bwidth.jpg", false},
		{"b1/\u2066isolate\u2069.mp4", false},
		{"b1/\uFEFFbom.txt", false},
		{"b1/line\u2028sep", false},
		{"b1/tab\there", false},
		{"b1/مرحبا.txt", true},
	} {
		if err := cleanRelPath(tc.path); (err == nil) != tc.ok {
			t.Errorf("cleanRelPath(%q) = %v, want ok=%v", tc.path, err, tc.ok)
		}
	}
}

func TestReadUsers(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","username":"a"}`,
		``,
		`   `,
		`{"id":"b c"}`,
		`[1,2]`,
		`{"username":"no id"}`,
		`{"id":"` + strings.Repeat("x", 65) + `"}`,
		`{"id":"z"}`,
	}, "\n") + "\n" + `{"id":"last-no-newline"}`
	var got []string
	ReadUsers(context.Background(), strings.NewReader(in), func(u User, err error) error {
		if err != nil {
			got = append(got, "err:"+err.Error()[:len("users.jsonl line 4")])
		} else {
			got = append(got, u.ID)
		}
		return nil
	})
	want := []string{"a", "err:users.jsonl line 4", "err:users.jsonl line 5", "err:users.jsonl line 6",
		"err:users.jsonl line 7", "z", "last-no-newline"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestReadUsersRefusesHugeLine(t *testing.T) {
	in := `{"id":"a"}` + "\n" + strings.Repeat("x", maxUserLine+10) + "\n" + `{"id":"b"}` + "\n"
	var ids, errs []string
	ReadUsers(context.Background(), strings.NewReader(in), func(u User, err error) error {
		if err != nil {
			errs = append(errs, err.Error())
		} else {
			ids = append(ids, u.ID)
		}
		return nil
	})
	if !slices.Equal(ids, []string{"a", "b"}) || len(errs) != 1 || !strings.Contains(errs[0], "line 2") {
		t.Fatalf("ids %v errs %v", ids, errs)
	}
}

func TestSplitParts(t *testing.T) {
	e := func(size int64) entry { return entry{Path: "p", Size: size} }
	over := int64(zipOverhead + 2)
	for _, tc := range []struct {
		name    string
		entries []entry
		max     int64
		want    []int // entries per part
	}{
		{"no limit", []entry{e(10), e(20)}, 0, []int{2}},
		{"empty user", nil, 100, []int{0}},
		{"fits", []entry{e(10), e(20)}, 30 + 2*over, []int{2}},
		{"splits", []entry{e(10), e(20), e(30)}, 30 + 2*over, []int{2, 1}},
		{"oversized file alone", []entry{e(10), e(1000), e(10)}, 100, []int{1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, p := range splitParts(tc.entries, tc.max) {
				got = append(got, len(p))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Shard assignment must never change between versions: a rerun with a new
// binary would otherwise move users between shards mid-export.
func TestShardOfIsStable(t *testing.T) {
	for _, tc := range []struct {
		id    string
		count int
		want  int
	}{
		{"alice", 1, 0},
		{"alice", 10, int(fnv1a("alice") % 10)},
		{"u000001", 7, int(fnv1a("u000001") % 7)},
	} {
		if got := ShardOf(tc.id, tc.count); got != tc.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", tc.id, tc.count, got, tc.want)
		}
	}
}

// fnv1a is FNV-1a 64 written out from its definition, independent of
// hash/fnv.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Each bad users.jsonl line is reported by exactly one shard, and a
// duplicate by the shard of its id, however many shards run.
func TestBadLinesAreReportedByOneShard(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	bad := []string{`{"id": "broken",`, `not json`, `{"id":"../evil"}`, `{"id":"_runs"}`, `{"username":"no id"}`}
	for _, l := range bad {
		appendLine(t, srcDir, l)
	}
	appendLine(t, srcDir, `{"id":"alice"}`)
	src, dst := fileStore(t, srcDir), fileStore(t, dstDir)
	const shards = 4
	failures, duplicates := 0, 0
	for i := range shards {
		rep := runExport(t, src, dst, Options{ShardIndex: i, ShardCount: shards})
		failures += rep.Users.Failed
		duplicates += rep.Users.Duplicates
	}
	if failures != len(bad) || duplicates != 1 {
		t.Fatalf("%d failures and %d duplicates over %d shards; want %d and 1", failures, duplicates, shards, len(bad))
	}
	st, err := ReadStatus(context.Background(), dst, src)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Failures) != len(bad) || st.Duplicates != 1 {
		t.Fatalf("status lists %d failures and %d duplicates, want %d and 1: %+v", len(st.Failures), st.Duplicates,
			len(bad), st.Failures)
	}
}
