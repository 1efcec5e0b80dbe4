package zipstream

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"
	"time"
	"unicode/utf8"
)

// Dest is where a Writer puts the archive: a stream in which the most
// recently held bytes can still be rewritten. blob.PatchWriter is one.
type Dest interface {
	io.Writer
	// Hold writes b and keeps it patchable until Release.
	Hold(b []byte) error
	// Patch rewrites bytes of the held range; off counts from the start
	// of the stream.
	Patch(off int64, b []byte) error
	// Release declares the held bytes final.
	Release() error
}

// ErrSize is returned (wrapped) when a stored entry gets more or fewer
// bytes than CreateStored announced.
var ErrSize = errors.New("entry size differs from the size announced")

// Writer writes one archive into a Dest. Close writes the central
// directory; the caller then commits or aborts the Dest.
type Writer struct {
	d       Dest
	off     int64
	entries []record
	cur     *storedWriter
	err     error // sticky: the archive is broken after any failure
}

// NewWriter returns a Writer that writes into d from offset 0.
func NewWriter(d Dest) *Writer { return &Writer{d: d} }

// Offset is the number of bytes written so far.
func (w *Writer) Offset() int64 { return w.off }

// CreateStored starts a stored entry of exactly size bytes, to be written
// through the returned writer before the next call on w. Its CRC-32 goes
// into the held local header when the entry ends.
func (w *Writer) CreateStored(name string, size int64, mod time.Time) (io.Writer, error) {
	if err := w.finish(); err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, w.fail(fmt.Errorf("zip %s: negative size %d", name, size))
	}
	r, err := w.newRecord(name, methodStore, uint64(size), uint64(size), mod)
	if err != nil {
		return nil, w.fail(err)
	}
	hdr := r.localHeader()
	if err := w.d.Hold(hdr); err != nil {
		return nil, w.fail(fmt.Errorf("zip %s: %w", name, err))
	}
	w.off += int64(len(hdr))
	w.cur = &storedWriter{w: w, rec: r, left: size, crc: crc32.NewIEEE()}
	return w.cur, nil
}

// AddBytes writes a whole entry from memory, deflated if deflate is set
// and that makes it smaller. Its header is complete from the start.
func (w *Writer) AddBytes(name string, body []byte, mod time.Time, deflate bool) error {
	if err := w.finish(); err != nil {
		return err
	}
	method, data := uint16(methodStore), body
	if deflate {
		if z := compress(body); len(z) < len(body) {
			method, data = methodDeflate, z
		}
	}
	r, err := w.newRecord(name, method, uint64(len(data)), uint64(len(body)), mod)
	if err != nil {
		return w.fail(err)
	}
	r.crc = crc32.ChecksumIEEE(body)
	if err := w.write(r.localHeader()); err != nil {
		return w.fail(fmt.Errorf("zip %s: %w", name, err))
	}
	if err := w.write(data); err != nil {
		return w.fail(fmt.Errorf("zip %s: %w", name, err))
	}
	w.entries = append(w.entries, *r)
	return nil
}

// Close ends the last entry and writes the central directory. It does not
// close the Dest.
func (w *Writer) Close() error {
	if err := w.finish(); err != nil {
		return err
	}
	start := w.off
	var b []byte
	for i := range w.entries {
		b = w.entries[i].appendCentral(b[:0])
		if err := w.write(b); err != nil {
			return w.fail(fmt.Errorf("zip: central directory: %w", err))
		}
	}
	end := endRecords(uint64(len(w.entries)), uint64(start), uint64(w.off-start))
	if err := w.write(end); err != nil {
		return w.fail(fmt.Errorf("zip: end of central directory: %w", err))
	}
	w.err = errors.New("zip: archive already closed")
	return nil
}

func (w *Writer) newRecord(name string, method uint16, csize, usize uint64, mod time.Time) (*record, error) {
	if w.err != nil {
		return nil, w.err
	}
	switch {
	case name == "":
		return nil, errors.New("zip: empty entry name")
	case len(name) > 0xffff:
		return nil, fmt.Errorf("zip %.40s...: name longer than 65,535 bytes", name)
	case !utf8.ValidString(name):
		return nil, fmt.Errorf("zip %q: name is not UTF-8", name)
	}
	r := &record{name: name, method: method, csize: csize, usize: usize, offset: uint64(w.off)}
	r.dosDate, r.dosTime = dosTime(mod)
	return r, nil
}

func (w *Writer) write(b []byte) error {
	n, err := w.d.Write(b)
	w.off += int64(n)
	return err
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

// finish ends the stored entry in progress, if any: checks that all of
// its bytes came, patches its CRC-32 into the held header and releases it.
func (w *Writer) finish() error {
	if w.err != nil {
		return w.err
	}
	s := w.cur
	if s == nil {
		return nil
	}
	w.cur = nil
	if s.left != 0 {
		return w.fail(fmt.Errorf("zip %s: %d of %d bytes missing: %w", s.rec.name, s.left, s.rec.usize, ErrSize))
	}
	s.rec.crc = s.crc.Sum32()
	var crc [4]byte
	le.PutUint32(crc[:], s.rec.crc)
	if err := w.d.Patch(int64(s.rec.offset)+crcOffset, crc[:]); err != nil {
		return w.fail(fmt.Errorf("zip %s: patch CRC-32: %w", s.rec.name, err))
	}
	if err := w.d.Release(); err != nil {
		return w.fail(fmt.Errorf("zip %s: %w", s.rec.name, err))
	}
	w.entries = append(w.entries, *s.rec)
	return nil
}

// storedWriter takes the data of one stored entry.
type storedWriter struct {
	w    *Writer
	rec  *record
	left int64
	crc  hash.Hash32
}

func (s *storedWriter) Write(b []byte) (int, error) {
	if s.w.cur != s {
		return 0, fmt.Errorf("zip %s: write after the entry ended", s.rec.name)
	}
	if int64(len(b)) > s.left {
		return 0, s.w.fail(fmt.Errorf("zip %s: more than the %d bytes announced: %w", s.rec.name, s.rec.usize, ErrSize))
	}
	if err := s.w.write(b); err != nil {
		return 0, s.w.fail(fmt.Errorf("zip %s: %w", s.rec.name, err))
	}
	s.crc.Write(b)
	s.left -= int64(len(b))
	return len(b), nil
}

// compress deflates b at BestSpeed: the text in an export is small next
// to its media, so speed matters more than the last percent of size.
func compress(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/2 + 64)
	fw, ok := flateWriters.Get().(*flate.Writer)
	if ok {
		fw.Reset(&buf)
	} else {
		fw, _ = flate.NewWriter(&buf, flate.BestSpeed)
	}
	defer flateWriters.Put(fw)
	fw.Write(b) // writes into a bytes.Buffer cannot fail
	fw.Close()
	return buf.Bytes()
}

var flateWriters sync.Pool
