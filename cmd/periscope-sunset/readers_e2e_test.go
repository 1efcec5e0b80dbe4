package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	bin "encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// The readers users and their tools open exports with. Each test exports
// an archive and has every part of every user opened, and every entry read
// with its CRC-32 checked, by: Info-ZIP unzip, 7-Zip, bsdtar from the file
// and from standard input (streaming), Python's zipfile, Java's ZipFile and
// ZipInputStream (streaming), and Go's archive/zip; and checks the local
// headers themselves: no data descriptors, the real CRC-32 and sizes, zip64
// exactly where needed with version 4.5.

func TestReadersSample(t *testing.T) {
	dest := t.TempDir()
	run(t, nil, "export", "--source", samplePath(t), "--dest", dest, "--progress", "none").want(t, 0)
	checkReaders(t, localParts(t, dest))
}

// TestReadersMultiPart splits a generated user into numbered parts, on a
// local destination and on S3, where entries span several multipart parts
// (so headers are held while later parts go up); verify then checks each
// part's SHA-256, which the S3 upload finished by reading back.
func TestReadersMultiPart(t *testing.T) {
	src := t.TempDir()
	st, err := blob.NewFile(src)
	if err != nil {
		t.Fatal(err)
	}
	opts := fixtures.Options{Users: 1, Broadcasts: 3, VideoBytes: 20 << 20, Seed: 3, HLSEvery: 3}
	if _, err := fixtures.Generate(context.Background(), st, opts); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	run(t, nil, "export", "--source", src, "--dest", dest, "--progress", "none",
		"--max-part-size", "1MiB").want(t, 0)
	run(t, nil, "verify", "--dest", dest).want(t, 0)
	parts := localParts(t, dest)

	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	env := srv.Env()
	s3dest := "s3://" + bucket + "/parts"
	run(t, env, "export", "--source", src, "--dest", s3dest, "--s3-path-style", "--progress", "none",
		"--max-part-size", "30MiB").want(t, 0)
	run(t, env, "verify", "--dest", s3dest, "--s3-path-style").want(t, 0)
	s3parts := downloadParts(t, srv.Store(t, bucket, "parts"))
	if len(parts) < 3 || len(s3parts) < 2 {
		t.Fatalf("%d local and %d S3 parts; want several of each", len(parts), len(s3parts))
	}
	checkReaders(t, append(parts, s3parts...))
}

// TestReadersManyEntries exports one broadcast whose HLS replay has 70,000
// segments: more entries than the classic end record can count.
func TestReadersManyEntries(t *testing.T) {
	const segments = 70_000
	src := t.TempDir()
	dir := writeSourceUser(t, src, "many", "1ManySegments", "hls")
	hls := filepath.Join(dir, "hls")
	var pl strings.Builder
	pl.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n")
	if err := os.MkdirAll(hls, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range segments {
		name := fmt.Sprintf("s%06d.ts", i)
		fmt.Fprintf(&pl, "#EXTINF:0.1,\n%s\n", name)
		if err := os.WriteFile(filepath.Join(hls, name), []byte{0x47, byte(i), byte(i >> 8)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pl.WriteString("#EXT-X-ENDLIST\n")
	if err := os.WriteFile(filepath.Join(hls, "playlist.m3u8"), []byte(pl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	run(t, nil, "export", "--source", src, "--dest", dest, "--progress", "none", "--remux", "never").want(t, 0)
	parts := localParts(t, dest)
	if n := countEntries(t, parts[0]); n <= segments {
		t.Fatalf("%d entries, want over %d", n, segments)
	}
	checkReaders(t, parts)
}

// TestReadersOver4GiB exports one replay of 4 GiB + 1 MiB (a sparse file:
// the disk holds almost nothing, yet every byte is read, hashed and
// written): the replay needs zip64 sizes, and every entry after it a zip64
// offset.
func TestReadersOver4GiB(t *testing.T) {
	src := t.TempDir()
	dir := writeSourceUser(t, src, "big", "1BigReplay000", "mp4")
	replay := filepath.Join(dir, "replay.mp4")
	f, err := os.Create(replay)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("\x00\x00\x00\x18ftypmp42")) // something that is not all zeros
	if err := f.Truncate(4<<30 + 1<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dest := bigTempDir(t)
	run(t, nil, "export", "--source", src, "--dest", dest, "--progress", "none").want(t, 0)
	checkReaders(t, localParts(t, dest))
	checkPartSums(t, dest)
}

// checkPartSums compares each part's SHA-256 with manifest.json's, as
// verify does (whose other checks the readers above cover).
func checkPartSums(t *testing.T, dest string) {
	st, err := blob.NewFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	users, _ := export.ListExported(ctx, st)
	for _, uid := range users {
		m, err := export.ReadManifest(ctx, st, uid)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Parts {
			f, err := os.Open(filepath.Join(dest, filepath.FromSlash(p.Key)))
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if got := hex.EncodeToString(h.Sum(nil)); err != nil || got != p.SHA256 {
				t.Errorf("%s: sha256 %s (%v), manifest.json says %s", p.Key, got, err, p.SHA256)
			}
		}
	}
}

// bigTempDir is a temporary folder for a 4 GiB part: in /dev/shm when it
// has room (memory: the part is written, synced and read many times), else
// on disk.
func bigTempDir(t *testing.T) string {
	var st syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &st) == nil && st.Bavail*uint64(st.Bsize) > 6<<30 {
		dir, err := os.MkdirTemp("/dev/shm", "readers-test-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// writeSourceUser adds a user with one broadcast to a source folder and
// returns the broadcast's folder.
func writeSourceUser(t *testing.T, src, uid, bid, replay string) string {
	t.Helper()
	user := fmt.Sprintf(`{"id":%q,"username":%q,"display_name":"Test","created_at":"2015-03-26T16:04:05Z"}`+"\n", uid, uid)
	if err := os.WriteFile(filepath.Join(src, "users.jsonl"), []byte(user), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(src, "broadcasts", uid, bid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	meta := fmt.Sprintf(`{"id":%q,"user_id":%q,"title":"Test","started_at":"2016-06-02T18:00:00Z",`+
		`"ended_at":"2016-06-02T19:00:00Z","replay":%q}`, bid, uid, replay)
	if err := os.WriteFile(filepath.Join(dir, "broadcast.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// localParts lists every part of every export in a local destination.
func localParts(t *testing.T, dest string) []string {
	t.Helper()
	st, err := blob.NewFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, key := range partKeys(t, st) {
		files = append(files, filepath.Join(dest, filepath.FromSlash(key)))
	}
	return files
}

func downloadParts(t *testing.T, st blob.Store) []string {
	t.Helper()
	var files []string
	for _, key := range partKeys(t, st) {
		files = append(files, download(t, st, key))
	}
	return files
}

func partKeys(t *testing.T, st blob.Store) []string {
	t.Helper()
	ctx := context.Background()
	users, err := export.ListExported(ctx, st)
	if err != nil || len(users) == 0 {
		t.Fatalf("no exports in %s: %v", st, err)
	}
	var keys []string
	for _, uid := range users {
		m, err := export.ReadManifest(ctx, st, uid)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Parts {
			keys = append(keys, p.Key)
		}
	}
	return keys
}

// readerTools are the external readers and the package that installs each.
var readerTools = []struct{ cmd, pkg string }{
	{"unzip", "unzip"},
	{"7z", "p7zip-full"},
	{"bsdtar", "libarchive-tools"},
	{"python3", "python3"},
	{"java", "default-jdk-headless"},
	{"javac", "default-jdk-headless"}, // java File.java compiles with it
}

// checkReaders opens every file with every reader, two readers at a time
// (the machines that run the suite have two cores or more).
func checkReaders(t *testing.T, files []string) {
	t.Helper()
	for _, tool := range readerTools {
		if _, err := exec.LookPath(tool.cmd); err != nil {
			t.Fatalf("%s not found (Debian package %s): run scripts/install-deps", tool.cmd, tool.pkg)
		}
	}
	var g errgroup.Group
	g.SetLimit(2)
	check := func(fn func() error) {
		g.Go(func() error {
			if err := fn(); err != nil {
				t.Error(err)
			}
			return nil
		})
	}
	for _, f := range files {
		entries := checkGoReader(t, f)
		checkLocalHeaders(t, f, entries)
		check(func() error { _, err := runTool("unzip", "-tq", f); return err })
		check(func() error {
			out, err := runTool("7z", "t", f)
			if err == nil && !strings.Contains(out, "Everything is Ok") {
				err = fmt.Errorf("7z t %s:\n%s", f, out)
			}
			return err
		})
		check(func() error {
			out, err := runTool("bsdtar", "-tvf", f)
			if n := strings.Count(out, "\n"); err == nil && n != len(entries) {
				err = fmt.Errorf("bsdtar -tvf %s listed %d entries, want %d", f, n, len(entries))
			}
			return err
		})
		check(func() error { return checkBsdtarStdin(f, len(entries)) })
	}
	py := `import sys, zipfile
for f in sys.argv[1:]:
    with zipfile.ZipFile(f) as z:
        bad = z.testzip()
        if bad is not None:
            sys.exit(f + ": bad CRC or header in " + bad)
        print(f, len(z.infolist()), "entries ok")`
	check(func() error { _, err := runTool("python3", append([]string{"-c", py}, files...)...); return err })
	java := filepath.Join("testdata", "ZipCheck.java")
	check(func() error { _, err := runTool("java", append([]string{java}, files...)...); return err })
	g.Wait()
}

func runTool(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args[:min(len(args), 2)], " "), err, tail(out))
	}
	return string(out), nil
}

// checkBsdtarStdin extracts from standard input, as `curl ... | bsdtar -xf -`
// would: libarchive reads the zip as a stream, local header by local header.
func checkBsdtarStdin(file string, want int) error {
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	cmd := exec.Command("bsdtar", "-xvf", "-", "-O")
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bsdtar -xf - < %s: %v\n%s", file, err, tail(stderr.Bytes()))
	}
	if got := strings.Count(stderr.String(), "x "); got != want {
		return fmt.Errorf("bsdtar -xf - < %s extracted %d entries, want %d\n%s", file, got, want, tail(stderr.Bytes()))
	}
	return nil
}

func tail(b []byte) []byte {
	if len(b) > 4000 {
		return b[len(b)-4000:]
	}
	return b
}

// checkGoReader reads every entry with archive/zip, which checks each
// CRC-32 at the end of the entry, and returns the central directory.
func checkGoReader(t *testing.T, file string) map[string]*zip.File {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatalf("archive/zip %s: %v", file, err)
	}
	defer zr.Close()
	entries := map[string]*zip.File{}
	buf := make([]byte, 1<<20)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("archive/zip %s: %s: %v", file, f.Name, err)
		}
		_, err = io.CopyBuffer(io.Discard, rc, buf)
		rc.Close()
		if err != nil {
			t.Fatalf("archive/zip %s: %s: %v", file, f.Name, err)
		}
		entries[f.Name] = f
	}
	return entries
}

func countEntries(t *testing.T, file string) int {
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	return len(zr.File)
}

// checkLocalHeaders walks the local headers from the start of the file, as
// a streaming reader does, and checks each against the central directory:
// no data descriptor (flag bit 3), the real CRC-32 and sizes, a zip64
// extra field exactly when a size or the header's offset needs one, and
// version needed 4.5 for zip64 entries, 2.0 for the others.
func checkLocalHeaders(t *testing.T, file string, central map[string]*zip.File) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	le := bin.LittleEndian
	const max32 = 0xffffffff
	var off int64
	seen := 0
	for {
		h := make([]byte, 30)
		if _, err := f.ReadAt(h, off); err != nil {
			t.Fatalf("%s: read local header at %d: %v", file, off, err)
		}
		if le.Uint32(h) == 0x02014b50 {
			break // the central directory
		}
		if le.Uint32(h) != 0x04034b50 {
			t.Fatalf("%s: no local header at %d", file, off)
		}
		version, flags, crc := le.Uint16(h[4:]), le.Uint16(h[6:]), le.Uint32(h[14:])
		csize, usize := uint64(le.Uint32(h[18:])), uint64(le.Uint32(h[22:]))
		nameLen, extraLen := int(le.Uint16(h[26:])), int(le.Uint16(h[28:]))
		rest := make([]byte, nameLen+extraLen)
		if _, err := f.ReadAt(rest, off+30); err != nil {
			t.Fatal(err)
		}
		name, extra := string(rest[:nameLen]), rest[nameLen:]
		zip64 := false
		for len(extra) >= 4 {
			id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
			if id == 1 && n >= 16 && usize == max32 && csize == max32 {
				usize, csize, zip64 = le.Uint64(extra[4:]), le.Uint64(extra[12:]), true
			}
			extra = extra[min(4+n, len(extra)):]
		}
		c := central[name]
		switch {
		case c == nil:
			t.Fatalf("%s: local header %q at %d is not in the central directory", file, name, off)
		case flags&8 != 0:
			t.Fatalf("%s: %s has a data descriptor (flag bit 3)", file, name)
		case crc != c.CRC32 || csize != c.CompressedSize64 || usize != c.UncompressedSize64:
			t.Fatalf("%s: %s: local header says crc %08x sizes %d/%d, central directory %08x %d/%d",
				file, name, crc, csize, usize, c.CRC32, c.CompressedSize64, c.UncompressedSize64)
		case zip64 != (usize >= max32 || csize >= max32 || off >= max32):
			t.Fatalf("%s: %s at offset %d, size %d: zip64 extra in local header is %v", file, name, off, usize, zip64)
		case zip64 && (version != 45 || c.ReaderVersion != 45):
			t.Fatalf("%s: %s is zip64 but needs version %d (central %d), want 45", file, name, version, c.ReaderVersion)
		case !zip64 && version != 20:
			t.Fatalf("%s: %s needs version %d, want 20", file, name, version)
		}
		off += 30 + int64(nameLen+extraLen) + int64(csize)
		seen++
	}
	if seen != len(central) {
		t.Fatalf("%s: %d local headers, %d central directory entries", file, seen, len(central))
	}
}
