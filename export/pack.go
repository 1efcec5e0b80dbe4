package export

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// copyBufSize is the chunk each worker reads its source in. Large enough to
// amortise syscalls and HTTP reads; small enough that workers × buffer stays
// tiny next to the upload budget.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// zipOverhead is a generous bound on the bytes zip adds per entry (local
// header, zip64 extra, data descriptor, central directory record) beyond
// twice the name. It only feeds size hints and part planning.
const zipOverhead = 200

// partWriter writes one zip part into the destination as it is produced.
type partWriter struct {
	// Set by the caller.
	src   blob.Store
	part  int
	bytes func(int64)  // progress, may be nil
	remux remuxer      // turns HLS replays into MP4
	warn  func(string) // records a problem that does not fail the user

	zw    *zip.Writer
	sum   hash.Hash
	size  int64
	files []FileRecord
}

// hashWriter feeds everything written to the part into its SHA-256 and
// byte count on its way to the pipe.
type hashWriter struct {
	p *partWriter
	w io.Writer
}

func (h hashWriter) Write(b []byte) (int, error) {
	n, err := h.w.Write(b)
	h.p.sum.Write(b[:n])
	h.p.size += int64(n)
	if h.p.bytes != nil {
		h.p.bytes(int64(n))
	}
	return n, err
}

// write streams a zip of the given entries (then whatever tail adds) into
// dst under key. It returns the part's record and the bag files it holds.
func (p *partWriter) write(ctx context.Context, dst blob.Store, key string, entries []entry,
	sizeHint int64, tail func(*partWriter) error) (PartRecord, []FileRecord, error) {
	pr, pw := io.Pipe()
	p.sum = sha256.New()
	p.zw = zip.NewWriter(hashWriter{p: p, w: pw})
	p.zw.RegisterCompressor(zip.Deflate, fastDeflate)
	done := make(chan error, 1)
	go func() {
		err := p.writeAll(ctx, entries, tail)
		pw.CloseWithError(err)
		done <- err
	}()
	_, err := dst.Put(ctx, key, pr, blob.PutOptions{SizeHint: sizeHint, ContentType: "application/zip", Archival: true})
	pr.CloseWithError(fmt.Errorf("upload stopped: %w", err)) // unblocks the writer if Put gave up early
	if werr := <-done; werr != nil {
		return PartRecord{}, nil, werr // the writer's error is the cause; Put's is its echo
	}
	if err != nil {
		return PartRecord{}, nil, fmt.Errorf("upload %s: %w", key, err)
	}
	rec := PartRecord{Key: key, Size: p.size, SHA256: hex.EncodeToString(p.sum.Sum(nil))}
	return rec, p.files, nil
}

func (p *partWriter) writeAll(ctx context.Context, entries []entry, tail func(*partWriter) error) error {
	for _, e := range entries {
		if err := p.copyEntry(ctx, e); err != nil {
			return err
		}
	}
	if tail != nil {
		if err := tail(p); err != nil {
			return err
		}
	}
	return p.zw.Close()
}

func (p *partWriter) create(name string, size int64, mod time.Time) (io.Writer, error) {
	h := &zip.FileHeader{Name: name, Method: zip.Store, Modified: mod.UTC()}
	if size >= minDeflate && isCompressible(name) {
		h.Method = zip.Deflate
	}
	h.UncompressedSize64 = uint64(size) // a hint: lets zip choose zip64 up front for huge files
	return p.zw.CreateHeader(h)
}

// copyEntry streams one source object into the zip, hashing it on the way.
func (p *partWriter) copyEntry(ctx context.Context, e entry) error {
	if e.Remux != nil {
		return p.remuxEntry(ctx, e)
	}
	rc, err := p.src.Get(ctx, e.Key)
	if err != nil {
		return fmt.Errorf("read %s: %w", e.Key, err)
	}
	defer rc.Close()
	return p.copyFrom(ctx, e, rc, e.Key)
}

// remuxEntry adds the MP4 remuxed from an HLS replay. In auto mode a
// failed remux is a warning: the broadcast keeps its HLS replay.
func (p *partWriter) remuxEntry(ctx context.Context, e entry) error {
	h := e.Remux
	f, err := p.remux.remux(ctx, p, h)
	if err != nil {
		if p.remux.mode == RemuxRequire || ctx.Err() != nil {
			return fmt.Errorf("remux %s: %w", h.Playlist, err)
		}
		p.warn(fmt.Sprintf("broadcast %s: left as HLS: remux failed: %v", h.Broadcast.ID, err))
		return nil
	}
	defer os.Remove(f.Name())
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	e.Size = fi.Size()
	if err := p.copyFrom(ctx, e, f, "remuxed "+h.Playlist); err != nil {
		return err
	}
	b := h.Broadcast
	b.RemuxedFrom, b.Replay, b.ReplayFormat = b.Replay, e.Path, "mp4"
	return nil
}

// copyFrom copies e.Size bytes from r into a new zip entry for e.
func (p *partWriter) copyFrom(ctx context.Context, e entry, r io.Reader, name string) error {
	w, err := p.create(e.Path, e.Size, e.ModTime)
	if err != nil {
		return fmt.Errorf("zip %s: %w", e.Path, err)
	}
	sum := sha256.New()
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	n, err := io.CopyBuffer(io.MultiWriter(w, sum), ctxReader{ctx, r}, *bufp)
	if err != nil {
		return fmt.Errorf("copy %s: %w", name, err)
	}
	if n != e.Size {
		return fmt.Errorf("copy %s: read %d bytes, listed as %d (changed during export?)", name, n, e.Size)
	}
	p.files = append(p.files, FileRecord{Path: e.Path, Size: n, SHA256: hex.EncodeToString(sum.Sum(nil)), Part: p.part})
	return nil
}

// addBody writes a generated file.
func (p *partWriter) addBody(name string, body []byte, mod time.Time) (FileRecord, error) {
	w, err := p.create(name, int64(len(body)), mod)
	if err == nil {
		_, err = io.Copy(w, bytes.NewReader(body))
	}
	if err != nil {
		return FileRecord{}, fmt.Errorf("zip %s: %w", name, err)
	}
	s := sha256.Sum256(body)
	rec := FileRecord{Path: name, Size: int64(len(body)), SHA256: hex.EncodeToString(s[:]), Part: p.part}
	p.files = append(p.files, rec)
	return rec, nil
}

// minDeflate is the smallest text file worth deflating: below it, the
// compressor's setup costs more CPU than the bytes it saves are worth.
const minDeflate = 4 << 10

// fastDeflate compresses with flate.BestSpeed from a pool: the text in an
// export (JSON, chat, playlists) is small next to the media, so speed
// matters more than the last percent of size.
func fastDeflate(w io.Writer) (io.WriteCloser, error) {
	fw, ok := flateWriters.Get().(*flate.Writer)
	if ok {
		fw.Reset(w)
	} else {
		fw, _ = flate.NewWriter(w, flate.BestSpeed)
	}
	return pooledFlate{fw}, nil
}

var flateWriters sync.Pool

type pooledFlate struct{ *flate.Writer }

func (f pooledFlate) Close() error {
	err := f.Writer.Close()
	flateWriters.Put(f.Writer)
	return err
}

// ctxReader stops a long copy promptly when the run is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// splitParts groups entries into parts of at most max bytes of payload each
// (0: one part). A single entry larger than max gets a part of its own:
// files never span parts, so every part is a complete zip on its own.
func splitParts(entries []entry, max int64) [][]entry {
	parts := [][]entry{nil}
	var size int64
	for _, e := range entries {
		cost := e.Size + zipOverhead + 2*int64(len(e.Path))
		last := len(parts) - 1
		if max > 0 && len(parts[last]) > 0 && size+cost > max {
			parts = append(parts, nil)
			last, size = last+1, 0
		}
		parts[last] = append(parts[last], e)
		size += cost
	}
	return parts
}

func sizeOf(entries []entry) int64 {
	var n int64
	for _, e := range entries {
		n += e.Size + zipOverhead + 2*int64(len(e.Path))
	}
	return n
}
