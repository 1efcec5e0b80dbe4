package export

import (
	"context"
	"crypto/sha256"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/zipstream"
)

// The hot path, one stage at a time, then whole: every byte of media is
// read, CRC-32'd by zip, SHA-256'd for the bag manifest and SHA-256'd again
// for the part's checksum in manifest.json. Each benchmark reports MB/s
// (b.SetBytes) and allocations, so runs compare with benchstat:
//
//	go test -run '^$' -bench . -count 6 ./export > new.txt && benchstat old.txt new.txt

// chunk is one copy buffer's worth of media (copyBufSize) of random bytes.
func chunk() []byte {
	b := make([]byte, copyBufSize)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

// BenchmarkHashSHA256 is one SHA-256 pass over 256 KiB chunks.
func BenchmarkHashSHA256(b *testing.B) {
	buf := chunk()
	h := sha256.New()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		h.Write(buf)
	}
}

// BenchmarkHashCRC32 is the CRC-32 zip computes for every stored entry.
func BenchmarkHashCRC32(b *testing.B) {
	buf := chunk()
	h := crc32.NewIEEE()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		h.Write(buf)
	}
}

// BenchmarkZipStore writes 64 MiB stored (not deflated) entries to a
// dry-run destination: zip's framing plus its CRC-32.
func BenchmarkZipStore(b *testing.B) {
	const size = 64 << 20
	buf := chunk()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		zw := zipstream.NewWriter(discard(b))
		w, err := zw.CreateStored("data/replay.mp4", size, time.Unix(1e9, 0))
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < size; n += len(buf) {
			w.Write(buf)
		}
		if err := zw.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// discard is a destination that keeps nothing.
func discard(b *testing.B) blob.PatchWriter {
	w, err := blob.DryRun{}.PutPatchable(context.Background(), "bench.zip", blob.PutOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkPackBytes is what the part writer does to each byte once it is
// read, without the read: zip (CRC-32), and the file's own SHA-256 beside
// it. (The part's SHA-256 is the destination's: see BenchmarkWritePart's
// file cases.)
func BenchmarkPackBytes(b *testing.B) {
	const size = 64 << 20
	buf := chunk()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		p := &partWriter{zw: zipstream.NewWriter(discard(b))}
		w, err := p.zw.CreateStored("data/broadcasts/b/replay.mp4", size, time.Unix(1e9, 0))
		if err != nil {
			b.Fatal(err)
		}
		mw := io.MultiWriter(w, sha256.New())
		for n := 0; n < size; n += len(buf) {
			mw.Write(buf)
		}
		if err := p.zw.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchArchive generates a source archive once per benchmark.
func benchArchive(b *testing.B, opts fixtures.Options) (blob.Store, fixtures.Stats) {
	b.Helper()
	src := fileStore(b, b.TempDir())
	st, err := fixtures.Generate(context.Background(), src, opts)
	if err != nil {
		b.Fatal(err)
	}
	return src, st
}

// BenchmarkWritePart is one user's part, read from a local folder (the page
// cache, after the first loop) and packed into a dry-run destination,
// which drains the stream as an upload would: read + zip + both hashes +
// the pipe into Put. MB/s counts source media bytes.
func BenchmarkWritePart(b *testing.B) {
	for _, c := range []struct {
		name string
		opts fixtures.Options
	}{
		{"large-5x5MiB", fixtures.Options{Users: 1, Broadcasts: 5, VideoBytes: 5 << 20, Seed: 1}},
		{"small-1x64KiB", fixtures.Options{Users: 1, Broadcasts: 1, VideoBytes: 64 << 10, Seed: 1}},
	} {
		for _, d := range []struct {
			name string
			dst  func() blob.Store
		}{
			{"", func() blob.Store { return blob.DryRun{Store: fileStore(b, b.TempDir())} }},
			// -file stores the part in a local folder: the part's SHA-256,
			// and any reading back it needs, are counted.
			{"-file", func() blob.Store { return fileStore(b, b.TempDir()) }},
		} {
			b.Run(c.name+d.name, func(b *testing.B) {
				ctx := context.Background()
				src, _ := benchArchive(b, c.opts)
				dst := d.dst()
				plan, err := planUser(ctx, src, benchUser(b, src), false)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(sizeOf(plan.Media))
				b.ReportAllocs()
				for b.Loop() {
					p := &partWriter{src: src, part: 1}
					if _, _, err := p.write(ctx, dst, "u/periscope-u.zip", plan.Media, sizeOf(plan.Media), nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRunSmallUsers is whole exports of many small users into a
// dry-run destination: the per-user work (plan, claim, bag files, viewer,
// manifest) that dominates the small workload, without the network. It
// reports users/s beside MB/s of source.
func BenchmarkRunSmallUsers(b *testing.B) {
	const users = 200
	ctx := context.Background()
	src, st := benchArchive(b, fixtures.Options{Users: users, Broadcasts: 1, VideoBytes: 64 << 10, Seed: 1})
	b.SetBytes(st.Bytes)
	b.ReportAllocs()
	for b.Loop() {
		dst := blob.DryRun{Store: fileStore(b, b.TempDir())}
		rep, err := Run(ctx, src, dst, Options{Workers: 4})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Users.Exported != users {
			b.Fatalf("exported %d users, want %d", rep.Users.Exported, users)
		}
	}
	b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "users/s")
}

// benchUser is the first user of src's users.jsonl.
func benchUser(b *testing.B, src blob.Store) User {
	b.Helper()
	rc, err := src.Get(context.Background(), UsersKey)
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	var first *User
	err = ReadUsers(context.Background(), rc, func(u User, err error) error {
		if err == nil && first == nil {
			first = &u
		}
		return err
	})
	if err != nil || first == nil {
		b.Fatalf("no user in %s: %v", UsersKey, err)
	}
	return *first
}
