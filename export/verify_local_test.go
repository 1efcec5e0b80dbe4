package export

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// downloadParts copies a user's parts into a fresh folder, as a browser
// would save them.
func downloadParts(t *testing.T, dstDir, uid string) string {
	dir := t.TempDir()
	parts, _ := filepath.Glob(filepath.Join(dstDir, uid, "*.zip"))
	for _, p := range parts {
		b, _ := os.ReadFile(p)
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	}
	return dir
}

func TestVerifyDownload(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	dst := fileStore(t, dstDir)
	runExport(t, fileStore(t, srcDir), dst, Options{MaxPartSize: 30 << 10})
	problems := func(t *testing.T, dir string) string {
		rs, err := VerifyDownload(dir)
		var s []string
		for _, r := range rs {
			s = append(s, r.Problems...)
		}
		if (err == nil) != (len(s) == 0) {
			t.Fatalf("error %v but problems %q", err, s)
		}
		return strings.Join(s, "\n")
	}
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T) string
		wants string // "" means intact
	}{
		{"all parts", func(t *testing.T) string { return downloadParts(t, dstDir, "alice") }, ""},
		{"a part missing", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "alice")
			os.Remove(filepath.Join(dir, partKey("alice", 2, partCount(t, dst, "alice"))[len("alice/"):]))
			return dir
		}, "part 2 of"},
		{"a flipped byte", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			name := filepath.Join(dir, "periscope-frank.zip")
			b, _ := os.ReadFile(name)
			b[len(b)/3] ^= 1
			os.WriteFile(name, b, 0o644)
			return dir
		}, "periscope-frank.zip"},
		{"extracted bag", func(t *testing.T) string { return extractExport(t, dst, "zoe-aero") }, ""},
		{"extracted bag with an edited file", func(t *testing.T) string {
			bag := extractExport(t, dst, "zoe-aero")
			os.WriteFile(filepath.Join(bag, "data", "profile.json"), []byte("{}"), 0o644)
			return bag
		}, "data/profile.json"},
		{"extracted bag with an extra payload file", func(t *testing.T) string {
			bag := extractExport(t, dst, "carol")
			os.WriteFile(filepath.Join(bag, "data", "extra.txt"), []byte("x"), 0o644)
			return bag
		}, "Payload-Oxum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.make(t))
			if (tc.wants == "") != (got == "") || !strings.Contains(got, tc.wants) {
				t.Fatalf("problems %q, want %q", got, tc.wants)
			}
		})
	}
}

func partCount(t *testing.T, dst blob.Store, uid string) int {
	m, err := ReadManifest(context.Background(), dst, uid)
	if err != nil {
		t.Fatal(err)
	}
	return len(m.Parts)
}
