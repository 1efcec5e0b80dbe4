package blobtest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func testRoundTrip(t *testing.T, st blob.Store) {
	cases := []struct {
		name string
		size int
		hint bool
	}{
		{"empty", 0, false},
		{"small", 1000, false},
		{"multipart-unknown-size", 20 * MiB, false},
		{"multipart-with-hint", 9*MiB + 1, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := "round/" + c.name
			data := randomData(uint64(i), c.size)
			var progress atomic.Int64
			opts := blob.PutOptions{
				ContentType: "application/octet-stream",
				Progress:    func(n int64) { progress.Add(n) },
			}
			if c.hint {
				opts.SizeHint = int64(c.size)
			}
			info := put(t, st, key, data, opts)
			if info.Key != key || info.Size != int64(c.size) || info.ETag == "" {
				t.Errorf("Put = %+v, want key %s, size %d and an ETag", info, key, c.size)
			}
			if got := progress.Load(); got != int64(c.size) {
				t.Errorf("progress reported %d bytes, want %d", got, c.size)
			}
			checkContent(t, st, key, data)
			stat, err := st.Stat(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			if stat.Key != key || stat.Size != info.Size || stat.ETag != info.ETag || stat.ModTime.IsZero() {
				t.Errorf("Stat = %+v, want key, size and ETag of Put %+v and a time", stat, info)
			}
		})
	}
}

func testMissing(t *testing.T, st blob.Store) {
	ctx := context.Background()
	put(t, st, "here", []byte("x"), blob.PutOptions{})
	for _, key := range []string{"missing", "no/such/folder/key", "her"} {
		if _, err := st.Get(ctx, key); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("Get %s = %v, want ErrNotExist", key, err)
		}
		if _, err := st.Open(ctx, key); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("Open %s = %v, want ErrNotExist", key, err)
		}
		if _, err := st.Stat(ctx, key); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("Stat %s = %v, want ErrNotExist", key, err)
		}
	}
}

func testDelete(t *testing.T, st blob.Store) {
	ctx := context.Background()
	put(t, st, "d/1", []byte("one"), blob.PutOptions{})
	put(t, st, "d/2", []byte("two"), blob.PutOptions{})
	if err := st.Delete(ctx, "d/1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	checkMissing(t, st, "d/1")
	checkContent(t, st, "d/2", []byte("two"))
	for _, key := range []string{"d/1", "never", "no/such/folder/key"} {
		if err := st.Delete(ctx, key); err != nil {
			t.Errorf("Delete of missing %s: %v", key, err)
		}
	}
	equalKeys(t, "List after Delete", listKeys(t, st, ""), []string{"d/2"})
}

// testReadAt reads an object bigger than the S3 backend's tail cache at
// random offsets and lengths, sequentially, and across its end.
func testReadAt(t *testing.T, st blob.Store) {
	const size = 3*MiB + 12345
	data := randomData(7, size)
	put(t, st, "big", data, blob.PutOptions{})
	ra, err := st.Open(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	if ra.Size() != size {
		t.Fatalf("Size = %d, want %d", ra.Size(), size)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		off := r.Int64N(size)
		if i%3 == 0 { // favour the tail, where zip readers start
			off = size - 1 - r.Int64N(200<<10)
		}
		n := 1 + r.IntN(300<<10)
		checkReadAt(t, ra, data, off, n)
	}
	for off := int64(0); off < size; off += 32 << 10 {
		checkReadAt(t, ra, data, off, 32<<10)
	}
	checkReadAt(t, ra, data, size-1, 1)
	checkReadAt(t, ra, data, size, 10)
	checkReadAt(t, ra, data, 0, size)
}

// checkReadAt checks one ReadAt against the io.ReaderAt contract.
func checkReadAt(t *testing.T, ra io.ReaderAt, data []byte, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	got, err := ra.ReadAt(p, off)
	want := max(0, min(n, len(data)-int(off)))
	if got != want || !bytes.Equal(p[:got], data[off:off+int64(got)]) {
		t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d matching bytes", n, off, got, err, want)
	}
	if (got < n) != (err != nil) {
		t.Fatalf("ReadAt(%d bytes at %d) = %d, %v: error iff short", n, off, got, err)
	}
}

// testZip reads a zip through Open as the export verifier does.
func testZip(t *testing.T, st blob.Store) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := map[string][]byte{}
	for i := range 5 {
		name := fmt.Sprintf("data/%d.bin", i)
		files[name] = randomData(uint64(100+i), 300<<10+i)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[name])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	put(t, st, "u/export.zip", buf.Bytes(), blob.PutOptions{ContentType: "application/zip"})

	ra, err := st.Open(context.Background(), "u/export.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	zr, err := zip.NewReader(ra, ra.Size())
	if err != nil {
		t.Fatalf("zip.NewReader: %v", err)
	}
	if len(zr.File) != len(files) {
		t.Fatalf("zip has %d files, want %d", len(zr.File), len(files))
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, files[f.Name]) {
			t.Fatalf("%s: read %d bytes, %v; want %d matching", f.Name, len(got), err, len(files[f.Name]))
		}
	}
}
