package purge

import "testing"

func TestPurgeCheckKey(t *testing.T) {
	good := [][2]string{{"alice", "alice/manifest.json"}, {"alice", "alice/.notify.json"}, {"a", "a/b/c"}}
	for _, k := range good {
		if err := checkKey(k[0], k[1]); err != nil {
			t.Errorf("checkKey(%q, %q): %v", k[0], k[1], err)
		}
	}
	bad := [][2]string{
		{"alice", "bob/manifest.json"}, {"alice", "alice/"}, {"alice", "alice/../bob/x"}, {"alice", "alice//x"},
		{"alice", "alice/./x"}, {"alice", "alice/a\\..\\x"}, {"alice", "alicex/y"}, {"../x", "../x/y"}, {"", "/x"},
	}
	for _, k := range bad {
		if err := checkKey(k[0], k[1]); err == nil {
			t.Errorf("checkKey(%q, %q) accepted it", k[0], k[1])
		}
	}
}
