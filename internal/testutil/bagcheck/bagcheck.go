// Package bagcheck holds test helpers that check exports the way a user's
// own tools would: an independent BagIt 1.0 validator (RFC 8493) and a zip
// extractor. It is written from the RFC, not from the export code, so a
// shared misunderstanding cannot make both agree.
package bagcheck

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Validate is an independent BagIt 1.0 validator (RFC 8493), written
// from the RFC rather than from the export code: declaration, every
// manifest line's checksum, completeness of the payload manifest, and
// Payload-Oxum.
func Validate(t testing.TB, dir string) {
	t.Helper()
	decl, err := os.ReadFile(filepath.Join(dir, "bagit.txt"))
	if err != nil || !bytes.HasPrefix(decl, []byte("BagIt-Version: 1.0\n")) ||
		!bytes.Contains(decl, []byte("Tag-File-Character-Encoding: UTF-8")) {
		t.Fatalf("bagit.txt missing or not BagIt 1.0: %q %v", decl, err)
	}
	listed := checkManifestFile(t, dir, "manifest-sha256.txt")
	checkManifestFile(t, dir, "tagmanifest-sha256.txt")
	var octets, count int64
	err = filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("payload file %s is not in manifest-sha256.txt", rel)
		}
		fi, _ := d.Info()
		octets += fi.Size()
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.ReadFile(filepath.Join(dir, "bag-info.txt"))
	want := "Payload-Oxum: " + strconv.FormatInt(octets, 10) + "." + strconv.FormatInt(count, 10)
	if !strings.Contains(string(info), want+"\n") {
		t.Errorf("bag-info.txt: want %q in\n%s", want, info)
	}
}

func checkManifestFile(t testing.TB, dir, name string) map[string]bool {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		sum, p, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("%s: bad line %q", name, line)
		}
		listed[p] = true
		if got := sha256File(t, filepath.Join(dir, filepath.FromSlash(p))); got != sum {
			t.Errorf("%s: %s has sha256 %s, listed %s", name, p, got, sum)
		}
	}
	return listed
}

func sha256File(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Extract unzips one zip part into out, refusing entries that escape it or
// that an earlier part already held.
func Extract(t testing.TB, r io.ReaderAt, size int64, out string) {
	t.Helper()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		t.Fatalf("not a zip on its own: %v", err)
	}
	for _, f := range zr.File {
		writeZipEntry(t, out, f)
	}
}

func writeZipEntry(t testing.TB, out string, f *zip.File) {
	t.Helper()
	if !filepath.IsLocal(f.Name) {
		t.Fatalf("zip entry %q escapes the folder", f.Name)
	}
	target := filepath.Join(out, filepath.FromSlash(f.Name))
	if _, err := os.Stat(target); err == nil {
		t.Fatalf("zip entry %q appears in two parts", f.Name)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		t.Fatal(err)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	w, err := os.Create(target)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := io.Copy(w, rc); err != nil {
		t.Fatalf("extract %s: %v", f.Name, err)
	}
}
