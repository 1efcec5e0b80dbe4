package export

import (
	"bytes"
	"context"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets run their seed corpora (testdata/fuzz and f.Add) as
// ordinary tests; `go test -fuzz FuzzX ./export` explores further.

func FuzzParseUser(f *testing.F) {
	for _, s := range []string{`{"id":"alice","username":"a"}`, `{"id":"../x"}`, `{"id":1}`, `[]`, `{"id":"` + strings.Repeat("a", 64) + `"}`, `{"id":"zoë"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		u, err := ParseUser(line)
		if err != nil {
			return
		}
		if !ValidID(u.ID) {
			t.Fatalf("accepted invalid id %q", u.ID)
		}
		if !bytes.Equal(u.Raw, line) {
			t.Fatal("Raw must keep the line as read")
		}
	})
}

func FuzzReadUsers(f *testing.F) {
	f.Add([]byte("{\"id\":\"a\"}\n\n{\"id\":\"b\"}"))
	f.Add([]byte("\r\n{bad\n{\"id\":\"a\"}\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		want := 0
		for _, l := range bytes.Split(in, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				want++
			}
		}
		got := 0
		err := ReadUsers(context.Background(), bytes.NewReader(in), func(u User, err error) error {
			got++
			if err == nil && !ValidID(u.ID) {
				t.Fatalf("invalid id %q passed", u.ID)
			}
			return nil
		})
		if err != nil || got != want {
			t.Fatalf("%d callbacks for %d non-blank lines (err %v)", got, want, err)
		}
	})
}

func FuzzParseBroadcast(f *testing.F) {
	f.Add([]byte(`{"id":"b1","title":"x","started_at":"2021-03-01T00:00:00Z","ended_at":"2021-03-01T00:01:00Z"}`))
	f.Add([]byte(`{"started_at":"2021-03-01T00:01:00Z","ended_at":"2021-03-01T00:00:00Z"}`))
	f.Add([]byte(`{"viewers":"many"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := ParseBroadcast(raw)
		if err == nil && b.DurationSeconds < 0 {
			t.Fatalf("negative duration %v", b.DurationSeconds)
		}
	})
}

func FuzzCleanRelPath(f *testing.F) {
	for _, s := range []string{"b1/replay.mp4", "b1/../x", "/abs", "b1//x", `a\b`, "b1/hls/seg.ts", ".", "..", "a/.", "a/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if cleanRelPath(p) != nil {
			return
		}
		if !utf8.ValidString(p) || path.Clean(p) != p || !filepath.IsLocal(p) || strings.Contains(p, `\`) {
			t.Fatalf("accepted unsafe path %q", p)
		}
		for _, part := range strings.Split(p, "/") {
			if part == ".." || part == "." || part == "" {
				t.Fatalf("accepted %q with component %q", p, part)
			}
		}
	})
}
