package blob_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func TestOverlaps(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	os.MkdirAll(filepath.Join(src, "broadcasts"), 0o755)
	os.Mkdir(filepath.Join(root, "other"), 0o755)
	alias := filepath.Join(root, "alias") // a symlink to src
	if err := os.Symlink(src, alias); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	cases := []struct {
		name string
		a, b string
		want bool
	}{
		{"same path", src, src, true},
		{"trailing slash", src, src + "/", true},
		{"dot segments", src, root + "/other/../src/.", true},
		{"relative and absolute", "src", src, true},
		{"dest inside source", src, src + "/exports", true},
		{"source inside dest", src + "/broadcasts", src, true},
		{"dest not made yet, deep inside", src, src + "/a/b/c", true},
		{"sibling with a common name prefix", src, src + "x", false},
		{"siblings", src, root + "/other", false},
		{"symlink to the same folder", alias, src, true},
		{"dest under a symlink to the source", src, alias + "/out", true},
		{"file URL", src, "file://" + src, true},
		{"file URL with localhost", "file://localhost" + src + "/out", src, true},
		{"file URL elsewhere", "file://" + root + "/other", src, false},
		{"filesystem root holds everything", "/", src, true},
		{"cwd holds a relative source", ".", "src", true},
		{"s3 same", "s3://b/x", "s3://b/x", true},
		{"s3 trailing slash", "s3://b/x", "s3://b/x/", true},
		{"s3 whole bucket holds a prefix", "s3://b", "s3://b/x", true},
		{"s3 bucket with slash", "s3://b/", "s3://b/x/y", true},
		{"s3 nested prefix", "s3://b/x/y", "s3://b/x", true},
		{"s3 common name prefix", "s3://b/x", "s3://b/xy", false},
		{"s3 bucket name case", "s3://B/x", "s3://b/x/y", true},
		{"s3 other bucket", "s3://b/x", "s3://c/x", false},
		{"s3 and local", "s3://b/x", src, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, pair := range [][2]string{{c.a, c.b}, {c.b, c.a}} {
				got, err := blob.Overlaps(pair[0], pair[1])
				if err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("Overlaps(%q, %q) = %v, want %v", pair[0], pair[1], got, c.want)
				}
			}
		})
	}
}

func TestOverlapsBadLocation(t *testing.T) {
	for _, bad := range []string{"", "https://b/x", "file://host/x", "s3://", "s3:///x"} {
		if _, err := blob.Overlaps(bad, "s3://b/x"); err == nil {
			t.Errorf("Overlaps(%q, ...): no error", bad)
		}
	}
}
