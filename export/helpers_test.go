package export

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/bagcheck"
)

// copySample copies the committed sample archive into a temp folder that a
// test may break at will.
func copySample(t testing.TB) string {
	t.Helper()
	src, err := fixtures.SamplePath()
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func fileStore(t testing.TB, dir string) blob.Store {
	t.Helper()
	s, err := blob.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleUsers(t testing.TB, dir string) []string {
	t.Helper()
	var ids []string
	f, err := os.Open(filepath.Join(dir, UsersKey))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = ReadUsers(context.Background(), f, func(u User, err error) error {
		if err == nil {
			ids = append(ids, u.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// extractExport unzips every part of a user's export (as listed by its
// manifest) into one fresh folder, the way a user would.
func extractExport(t testing.TB, dst blob.Store, uid string) string {
	t.Helper()
	m, err := ReadManifest(context.Background(), dst, uid)
	if err != nil {
		t.Fatalf("manifest of %s: %v", uid, err)
	}
	out := t.TempDir()
	for _, p := range m.Parts {
		ra, err := dst.Open(context.Background(), p.Key)
		if err != nil {
			t.Fatal(err)
		}
		bagcheck.Extract(t, ra, ra.Size(), out)
		ra.Close()
	}
	return out
}

func runExport(t testing.TB, src, dst blob.Store, opts Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), src, dst, opts)
	var pe *PartialError
	if err != nil && !errors.As(err, &pe) {
		t.Fatalf("export: %v", err)
	}
	return rep
}
