package zipstream

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// memDest is a Dest in memory that checks the hold discipline.
type memDest struct {
	bytes.Buffer
	held       bool
	start, end int64
}

func (m *memDest) Hold(b []byte) error {
	if m.held {
		return errors.New("already holding")
	}
	m.held, m.start, m.end = true, int64(m.Len()), int64(m.Len()+len(b))
	m.Write(b)
	return nil
}

func (m *memDest) Patch(off int64, b []byte) error {
	if !m.held || off < m.start || off+int64(len(b)) > m.end {
		return fmt.Errorf("patch at %d outside the held range", off)
	}
	copy(m.Bytes()[off:], b)
	return nil
}

func (m *memDest) Release() error { m.held = false; return nil }

func TestRoundTrip(t *testing.T) {
	var d memDest
	w := NewWriter(&d)
	mod := time.Date(2016, 6, 2, 18, 0, 4, 0, time.UTC)
	media := bytes.Repeat([]byte("0123456789"), 100_000)
	text := []byte(strings.Repeat(`{"chat":"hello"}`+"\n", 1000))
	ew, err := w.CreateStored("data/replay.mp4", int64(len(media)), mod)
	if err != nil {
		t.Fatal(err)
	}
	ew.Write(media[:1000])
	ew.Write(media[1000:])
	if err := w.AddBytes("data/chat.jsonl", text, mod, true); err != nil {
		t.Fatal(err)
	}
	if err := w.AddBytes("data/Ünïcode ☂.txt", []byte("x"), mod, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.CreateStored("data/empty", 0, mod); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(d.Bytes()), int64(d.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name   string
		body   []byte
		method uint16
		flags  uint16
	}{
		{"data/replay.mp4", media, zip.Store, 0},
		{"data/chat.jsonl", text, zip.Deflate, 0},
		{"data/Ünïcode ☂.txt", []byte("x"), zip.Store, flagUTF8}, // one byte does not deflate smaller
		{"data/empty", nil, zip.Store, 0},
	}
	if len(zr.File) != len(want) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(want))
	}
	for i, f := range zr.File {
		w := want[i]
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc) // checks the CRC-32
		if err != nil || !bytes.Equal(got, w.body) {
			t.Errorf("%s: read %d bytes, %v", f.Name, len(got), err)
		}
		if f.Name != w.name || f.Method != w.method || f.Flags != w.flags || f.ReaderVersion != 20 {
			t.Errorf("entry %d = %q method %d flags %#x version %d, want %q %d %#x 20",
				i, f.Name, f.Method, f.Flags, f.ReaderVersion, w.name, w.method, w.flags)
		}
		if !f.Modified.Equal(mod) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, mod)
		}
	}
	// The stored entry's local header has its CRC-32 and sizes.
	h := d.Bytes()
	if le.Uint16(h[6:]) != 0 || le.Uint32(h[14:]) != zr.File[0].CRC32 || le.Uint32(h[22:]) != uint32(len(media)) {
		t.Errorf("local header: flags %#x crc %08x size %d", le.Uint16(h[6:]), le.Uint32(h[14:]), le.Uint32(h[22:]))
	}
}

func TestWrongSize(t *testing.T) {
	for _, n := range []int{9, 11} {
		var d memDest
		w := NewWriter(&d)
		ew, err := w.CreateStored("f", 10, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		_, werr := ew.Write(make([]byte, n))
		cerr := w.Close()
		if !errors.Is(werr, ErrSize) && !errors.Is(cerr, ErrSize) {
			t.Errorf("%d of 10 bytes: Write = %v, Close = %v; want ErrSize", n, werr, cerr)
		}
	}
}

func TestBadNames(t *testing.T) {
	for _, name := range []string{"", "\xff.txt", strings.Repeat("a", 70_000)} {
		w := NewWriter(&memDest{})
		if err := w.AddBytes(name, nil, time.Time{}, false); err == nil {
			t.Errorf("name %.20q accepted", name)
		}
	}
}

// TestZip64Fields checks the records of entries past the 32-bit limits,
// too large to write in a test: sizes, offsets, counts.
func TestZip64Fields(t *testing.T) {
	for _, r := range []record{
		{name: "big", usize: 5 << 30, csize: 5 << 30, offset: 10},
		{name: "late", usize: 10, csize: 10, offset: 5 << 30},
		{name: "edge", usize: max32, csize: max32},
	} {
		lh := r.localHeader()
		if le.Uint16(lh[4:]) != 45 || le.Uint32(lh[18:]) != max32 || le.Uint32(lh[22:]) != max32 ||
			le.Uint16(lh[30+len(r.name):]) != zip64ExtraID ||
			le.Uint64(lh[34+len(r.name):]) != r.usize || le.Uint64(lh[42+len(r.name):]) != r.csize {
			t.Errorf("%s: local header %x", r.name, lh)
		}
		c := r.appendCentral(nil)
		if le.Uint16(c[6:]) != 45 || le.Uint32(c[42:]) != max32 ||
			le.Uint64(c[centralLen+len(r.name)+4+16:]) != r.offset {
			t.Errorf("%s: central record %x", r.name, c)
		}
	}
	small := record{name: "small", usize: max32 - 1, csize: max32 - 1, offset: max32 - 1}
	if lh := small.localHeader(); le.Uint16(lh[4:]) != 20 || len(lh) != localLen+len("small") {
		t.Errorf("small entry has zip64 fields: %x", lh)
	}
	for _, c := range []struct {
		count, start, size uint64
		zip64              bool
	}{
		{10, 100, 100, false},
		{65_534, 100, 100, false},
		{65_535, 100, 100, true},
		{70_000, 100, 100, true},
		{10, 5 << 30, 100, true},
	} {
		b := endRecords(c.count, c.start, c.size)
		if got := le.Uint32(b) == sigEnd64; got != c.zip64 {
			t.Errorf("%+v: zip64 end record %v", c, got)
		}
		if c.zip64 && (le.Uint64(b[24:]) != c.count || le.Uint64(b[48:]) != c.start ||
			le.Uint64(b[end64Len+8:]) != c.start+c.size) {
			t.Errorf("%+v: zip64 end record %x", c, b)
		}
	}
}
