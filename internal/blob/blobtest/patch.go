package blobtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// Span is a held range of a patch script: bytes [Off, Off+N) go out as
// zeros, stay held while the stream goes on to Until, and are then
// patched to their real value and released.
type Span struct{ Off, N, Until int }

// PatchStream writes data through w as the spans say, in short writes, and
// commits. The stored object must equal data.
func PatchStream(w blob.PatchWriter, data []byte, spans []Span) (blob.Info, error) {
	pos := 0
	writeTo := func(end int) error {
		for pos < end {
			n := min(end-pos, 100_003)
			if _, err := w.Write(data[pos : pos+n]); err != nil {
				return err
			}
			pos += n
		}
		return nil
	}
	for _, s := range spans {
		if err := writeTo(s.Off); err != nil {
			return blob.Info{}, err
		}
		if err := w.Hold(make([]byte, s.N)); err != nil {
			return blob.Info{}, err
		}
		pos += s.N
		if err := writeTo(s.Until); err != nil {
			return blob.Info{}, err
		}
		if err := w.Patch(int64(s.Off), data[s.Off:s.Off+s.N]); err != nil {
			return blob.Info{}, err
		}
		if err := w.Release(); err != nil {
			return blob.Info{}, err
		}
	}
	if err := writeTo(len(data)); err != nil {
		return blob.Info{}, err
	}
	return w.Commit()
}

func patchPutter(t *testing.T, st blob.Store) blob.PatchPutter {
	t.Helper()
	pp, ok := st.(blob.PatchPutter)
	if !ok {
		t.Fatalf("%s does not implement blob.PatchPutter", st)
	}
	return pp
}

// testPatch covers the shapes a zip writer makes: headers held inside the
// small head, inside one part, across a part boundary (the header's part
// held while whole parts after it go up), and right before a boundary.
func testPatch(t *testing.T, st blob.Store) {
	pp := patchPutter(t, st)
	cases := []struct {
		name  string
		size  int
		spans []Span
	}{
		{"empty", 0, nil},
		{"small", 70_000, []Span{{0, 60, 50_000}, {50_000, 40, 70_000}}},
		{"head-boundary", 300_000, []Span{{256<<10 - 10, 60, 280_000}}},
		{"in-one-part", 12 * MiB, []Span{{1000, 60, 3 * MiB}, {3 * MiB, 30, 3*MiB + 5}}},
		{"across-parts", 30 * MiB, []Span{{100, 80, 25 * MiB}, {25 * MiB, 50, 30 * MiB}}},
		{"at-part-end", 20 * MiB, []Span{{8*MiB - 20, 100, 18 * MiB}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := randomData(7, c.size)
			key := "patch/" + c.name
			w, err := pp.PutPatchable(context.Background(), key, blob.PutOptions{SizeHint: int64(c.size)})
			if err != nil {
				t.Fatal(err)
			}
			info, err := PatchStream(w, data, c.spans)
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			sum := sha256.Sum256(data)
			if info.Size != int64(c.size) || info.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("Commit = size %d sha256 %s, want %d %x", info.Size, info.SHA256, c.size, sum)
			}
			checkContent(t, st, key, data)
		})
	}
	checkNoIncomplete(t, st)
}

// testPatchMisuse checks that a patch outside the held range, a second
// hold and a commit while holding all fail, and that a failed or aborted
// upload leaves nothing behind.
func testPatchMisuse(t *testing.T, st blob.Store) {
	pp := patchPutter(t, st)
	ctx := context.Background()
	for _, size := range []int{1000, 20 * MiB} {
		data := randomData(8, size)
		w, err := pp.PutPatchable(ctx, "misuse", blob.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Patch(0, []byte{1}); err == nil {
			t.Error("Patch with nothing held succeeded")
		}
		w.Hold(make([]byte, 10))
		w.Write(data)
		if err := w.Patch(5, make([]byte, 10)); err == nil {
			t.Error("Patch past the held range succeeded")
		}
		if err := w.Hold([]byte{1}); err == nil {
			t.Error("second Hold succeeded")
		}
		if _, err := w.Commit(); err == nil {
			t.Errorf("Commit of %d bytes while holding succeeded", size)
		}
		checkMissing(t, st, "misuse")

		w, err = pp.PutPatchable(ctx, "aborted", blob.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.Hold(make([]byte, 10))
		w.Write(data)
		w.Patch(0, data[:10])
		w.Release()
		w.Abort()
		checkMissing(t, st, "aborted")
	}
	equalKeys(t, "List after failed patch uploads", listKeys(t, st, ""), []string{})
	checkNoIncomplete(t, st)
}

// testPatchCancel checks that cancelling the context mid-stream fails the
// upload and leaves nothing.
func testPatchCancel(t *testing.T, st blob.Store) {
	pp := patchPutter(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	w, err := pp.PutPatchable(ctx, "cancelled", blob.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data := randomData(9, 20*MiB)
	w.Hold(make([]byte, 10))
	w.Write(data[:10*MiB])
	cancel()
	_, werr := w.Write(data[10*MiB:])
	_, cerr := w.Commit()
	if !errors.Is(werr, context.Canceled) && !errors.Is(cerr, context.Canceled) && cerr == nil {
		t.Fatalf("write after cancel = %v, Commit = %v; want an error", werr, cerr)
	}
	checkMissing(t, st, "cancelled")
	checkNoIncomplete(t, st)
}

// testPatchIfNoneMatch: a patchable upload with IfNoneMatch over an
// existing key fails with ErrPrecondition at Commit, in one PUT and as a
// multipart upload, and leaves the existing object and no upload behind.
func testPatchIfNoneMatch(t *testing.T, st blob.Store) {
	pp := patchPutter(t, st)
	for _, c := range []struct {
		name string
		size int
	}{{"one-put", 70_000}, {"multipart", 12 * MiB}} {
		t.Run(c.name, func(t *testing.T) {
			key := "patch-once/" + c.name
			first := randomData(1, c.size)
			w, err := pp.PutPatchable(context.Background(), key, blob.PutOptions{SizeHint: int64(c.size), IfNoneMatch: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := PatchStream(w, first, []Span{{0, 60, c.size / 2}}); err != nil {
				t.Fatalf("first upload: %v", err)
			}
			w, err = pp.PutPatchable(context.Background(), key, blob.PutOptions{SizeHint: int64(c.size), IfNoneMatch: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := PatchStream(w, randomData(2, c.size), []Span{{0, 60, c.size / 2}}); !errors.Is(err, blob.ErrPrecondition) {
				t.Fatalf("second IfNoneMatch upload = %v, want ErrPrecondition", err)
			}
			checkContent(t, st, key, first)
		})
	}
	checkNoIncomplete(t, st)
}
