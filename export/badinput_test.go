package export

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Each case breaks the sample archive in one way. The broken user must fail
// with a reason naming it and the problem; every other user must still be
// exported and verify; nothing may be written for the broken user.
func TestBadInputCostsOnlyThatUser(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("not yours"), 0o644)
	cases := []struct {
		name   string
		user   string // the user that must fail
		break_ func(t *testing.T, src string)
		reason string // must appear in the failure
	}{
		{"malformed users.jsonl line", "", func(t *testing.T, src string) {
			appendLine(t, src, `{"id": "broken",`)
		}, "users.jsonl line 11"},
		{"id outside the allowed pattern", "../evil", func(t *testing.T, src string) {
			appendLine(t, src, `{"id":"../evil","username":"x"}`)
		}, "invalid user id"},
		{"duplicate user id", "bob_1", func(t *testing.T, src string) {
			appendLine(t, src, `{"id":"bob_1","username":"again"}`)
		}, "duplicate user id"},
		{"broadcast without broadcast.json", "frank", func(t *testing.T, src string) {
			os.Remove(filepath.Join(oneBroadcast(t, src, "frank"), "broadcast.json"))
		}, "missing broadcast.json"},
		{"broadcast.json not JSON", "frank", func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(oneBroadcast(t, src, "frank"), "broadcast.json"), []byte("{nope"), 0o644)
		}, "not a JSON object"},
		{"broadcast id outside the pattern", "frank", func(t *testing.T, src string) {
			os.Rename(oneBroadcast(t, src, "frank"), filepath.Join(src, "broadcasts", "frank", "b@d id"))
		}, "invalid broadcast id"},
		{"symlink out of the source root", "frank", func(t *testing.T, src string) {
			os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(oneBroadcast(t, src, "frank"), "chat.jsonl.x"))
		}, "chat.jsonl.x"},
		{"dangling media file", "frank", func(t *testing.T, src string) {
			replay := filepath.Join(oneBroadcast(t, src, "frank"), "replay.mp4")
			os.Remove(replay)
			os.Symlink(filepath.Join(src, "gone.mp4"), replay)
		}, "replay.mp4"},
		{"name with a control character", "frank", func(t *testing.T, src string) {
			os.WriteFile(filepath.Join(oneBroadcast(t, src, "frank"), "a\nb.txt"), []byte("x"), 0o644)
		}, "unsafe path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srcDir, dstDir := copySample(t), t.TempDir()
			good := sampleUsers(t, srcDir)
			tc.break_(t, srcDir)
			dst := fileStore(t, dstDir)
			rep := runExport(t, fileStore(t, srcDir), dst, Options{})
			if len(rep.Failures) != 1 || !strings.Contains(rep.Failures[0].Reason, tc.reason) ||
				rep.Failures[0].User != tc.user {
				t.Fatalf("failures %+v, want one for user %q mentioning %q", rep.Failures, tc.user, tc.reason)
			}
			good = slices.DeleteFunc(good, func(u string) bool { return u == tc.user })
			exported, err := ListExported(context.Background(), dst)
			if err != nil {
				t.Fatal(err)
			}
			if want := len(good); len(exported) != want && !(tc.user == "bob_1" && len(exported) == want+1) {
				t.Fatalf("exported %v, want the %d good users", exported, want)
			}
			if _, err := Verify(context.Background(), dst, VerifyOptions{}); err != nil {
				t.Fatalf("verify the others: %v", err)
			}
			checkOnlyUserFolders(t, dstDir, exported)
		})
	}
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
