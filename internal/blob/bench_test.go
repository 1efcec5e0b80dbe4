package blob_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/blob/blobtest"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// Benchmarks of the stores on the export's hot path: streaming a source
// object out of a local folder, and a part-sized upload to a real S3 server
// (versitygw on loopback, which shares the CPU with the client: read the
// S3 figures as relative, not as what AWS would do). MB/s and allocations
// are reported, so runs compare with benchstat:
//
//	go test -run '^$' -bench . -count 6 ./internal/blob > new.txt && benchstat old.txt new.txt

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{2}).Read(b)
	return b
}

// BenchmarkFileGet streams a 64 MiB object from a local folder in the
// export's 256 KiB chunks (from the page cache after the first loop).
func BenchmarkFileGet(b *testing.B) {
	const size = 64 << 20
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "replay.mp4"), randomBytes(size), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := blob.NewFile(dir)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	ctx := context.Background()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		rc, err := s.Get(ctx, "replay.mp4")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{rc}, buf) // no WriterTo/ReaderFrom shortcuts
		rc.Close()
		if err != nil || n != size {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}

// stream hides bytes.Reader's Seek and WriterTo, so Put sees what the
// export gives it: the read end of a pipe.
type stream struct{ io.Reader }

// BenchmarkS3Put uploads one object per loop: 64 MiB as a streamed
// multipart upload (8 MiB parts, several in flight), at the store's
// default part concurrency and at 8; and a 70 KiB object, a small user's
// zip, whose cost is per request.
func BenchmarkS3Put(b *testing.B) {
	srv := s3test.Start(b)
	bucket := srv.NewBucket(b)
	for _, c := range []struct {
		name        string
		size        int
		concurrency int
	}{
		{"64MiB", 64 << 20, 0},
		{"64MiB-concurrency-8", 64 << 20, 8},
		{"70KiB", 70 << 10, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			st := srv.StoreConfig(b, bucket, "bench", blob.S3Config{
				Concurrency: c.concurrency,
				Budget:      blob.NewBudget(64 << 20),
			})
			body := randomBytes(c.size)
			ctx := context.Background()
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				key := fmt.Sprintf("%s/%d.zip", c.name, i%4) // overwrite: bounded disk use
				_, err := st.Put(ctx, key, stream{bytes.NewReader(body)},
					blob.PutOptions{SizeHint: int64(c.size), ContentType: "application/zip"})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkS3PutPatchable uploads 64 MiB the way a zip part with one large
// stored entry is written: a header held while the entry's data goes up, then
// patched. The part's SHA-256 then finishes by reading the bytes after the
// header back, which this measures beside BenchmarkS3Put/64MiB.
func BenchmarkS3PutPatchable(b *testing.B) {
	srv := s3test.Start(b)
	bucket := srv.NewBucket(b)
	const size = 64 << 20
	st := srv.StoreConfig(b, bucket, "bench", blob.S3Config{Budget: blob.NewBudget(64 << 20)})
	body := randomBytes(size)
	ctx := context.Background()
	b.SetBytes(size)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		w, err := st.PutPatchable(ctx, fmt.Sprintf("patch/%d.zip", i%4), blob.PutOptions{SizeHint: size})
		if err != nil {
			b.Fatal(err)
		}
		_, err = blobtest.PatchStream(w, body, []blobtest.Span{{Off: 100, N: 60, Until: size - 100}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
