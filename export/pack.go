package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/zipstream"
)

// copyBufSize is the chunk each worker reads its source in. Large enough to
// amortise syscalls and HTTP reads; small enough that workers × buffer stays
// tiny next to the upload budget.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// zipOverhead is a generous bound on the bytes zip adds per entry (local
// header, zip64 extra, central directory record) beyond twice the name.
// It only feeds size hints and part planning.
const zipOverhead = 200

// maxDeflate is the largest text file deflated: it is compressed in
// memory so that its local header is complete (see zipstream), and a
// larger one (a very long chat) is stored instead, streamed like media.
const maxDeflate = 4 << 20

// partWriter writes one zip part into the destination as it is produced.
type partWriter struct {
	// Set by the caller.
	src   blob.Store
	part  int
	bytes func(int64)  // progress, may be nil
	remux remuxer      // turns HLS replays into MP4
	warn  func(string) // records a problem that does not fail the user
	chats *chatBudget  // what the user's viewer may still carry of the chats
	// exclusive stores the part only where no object is yet (see write).
	exclusive bool

	zw    *zipstream.Writer
	files []FileRecord
}

// progressDest counts the bytes of the part as they are written.
type progressDest struct {
	blob.PatchWriter
	bytes func(int64)
}

func (d progressDest) Write(b []byte) (int, error) {
	n, err := d.PatchWriter.Write(b)
	d.bytes(int64(n))
	return n, err
}

func (d progressDest) Hold(b []byte) error {
	err := d.PatchWriter.Hold(b)
	if err == nil {
		d.bytes(int64(len(b)))
	}
	return err
}

// write streams a zip of the given entries (then whatever tail adds) into
// dst under key. It returns the part's record and the bag files it holds.
// The destination must let the zip writer patch each stored entry's
// CRC-32 into its local header (blob.PatchPutter); the part's SHA-256 comes
// from the destination, over the bytes as stored.
func (p *partWriter) write(ctx context.Context, dst blob.Store, key string, entries []entry,
	sizeHint int64, tail func(*partWriter) error) (PartRecord, []FileRecord, error) {
	pp, ok := dst.(blob.PatchPutter)
	if !ok {
		return PartRecord{}, nil, fmt.Errorf("upload %s: %s cannot patch what it stores (blob.PatchPutter)", key, dst)
	}
	w, err := pp.PutPatchable(ctx, key, blob.PutOptions{SizeHint: sizeHint, ContentType: "application/zip", Archival: true, IfNoneMatch: p.exclusive})
	if err != nil {
		return PartRecord{}, nil, fmt.Errorf("upload %s: %w", key, err)
	}
	var d zipstream.Dest = w
	if p.bytes != nil {
		d = progressDest{w, p.bytes}
	}
	p.zw = zipstream.NewWriter(d)
	if err := p.writeAll(ctx, entries, tail); err != nil {
		w.Abort()
		return PartRecord{}, nil, err
	}
	info, err := w.Commit()
	if err != nil {
		return PartRecord{}, nil, fmt.Errorf("upload %s: %w", key, err)
	}
	return PartRecord{Key: key, Size: info.Size, SHA256: info.SHA256}, p.files, nil
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

// deflates tells whether a file is worth deflating (and small enough to
// deflate in memory).
func deflates(name string, size int64) bool {
	return size >= minDeflate && size <= maxDeflate && isCompressible(name)
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
	return p.copyLearning(ctx, e, rc, e.Key)
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
	defer p.remux.release(f)
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	e.Size = fi.Size()
	if err := p.copyLearning(ctx, e, f, "remuxed "+h.Playlist); err != nil {
		return err
	}
	b := h.Broadcast
	b.RemuxedFrom, b.Replay, b.ReplayFormat = b.Replay, e.Path, "mp4"
	return nil
}

// copyFrom copies e.Size bytes from r into a new zip entry for e: stored
// and streamed, or read whole and deflated if it is small text.
func (p *partWriter) copyFrom(ctx context.Context, e entry, r io.Reader, name string) error {
	if deflates(e.Path, e.Size) {
		body, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, e.Size+1))
		if err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
		if int64(len(body)) != e.Size {
			return changedSize(name, int64(len(body)), e.Size)
		}
		_, err = p.addBody(e.Path, body, e.ModTime)
		return err
	}
	w, err := p.zw.CreateStored(e.Path, e.Size, e.ModTime)
	if err != nil {
		return fmt.Errorf("zip %s: %w", e.Path, err)
	}
	sum := sha256.New()
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	n, err := io.CopyBuffer(io.MultiWriter(w, sum), io.LimitReader(ctxReader{ctx, r}, e.Size+1), *bufp)
	if errors.Is(err, zipstream.ErrSize) {
		return changedSize(name, e.Size+1, e.Size)
	}
	if err != nil {
		return fmt.Errorf("copy %s: %w", name, err)
	}
	if n != e.Size {
		return changedSize(name, n, e.Size)
	}
	p.files = append(p.files, FileRecord{Path: e.Path, Size: n, SHA256: hex.EncodeToString(sum.Sum(nil)), Part: p.part})
	return nil
}

func changedSize(name string, got, want int64) error {
	if got > want {
		return fmt.Errorf("copy %s: more than the %d bytes listed (changed during export?)", name, want)
	}
	return fmt.Errorf("copy %s: read %d bytes, listed as %d (changed during export?)", name, got, want)
}

// addBody writes a file held in memory (generated, or small text).
func (p *partWriter) addBody(name string, body []byte, mod time.Time) (FileRecord, error) {
	size := int64(len(body))
	if err := p.zw.AddBytes(name, body, mod.UTC(), deflates(name, size)); err != nil {
		return FileRecord{}, fmt.Errorf("zip %s: %w", name, err)
	}
	s := sha256.Sum256(body)
	rec := FileRecord{Path: name, Size: size, SHA256: hex.EncodeToString(s[:]), Part: p.part}
	p.files = append(p.files, rec)
	return rec, nil
}

// minDeflate is the smallest text file worth deflating: below it, the
// compressor's setup costs more CPU than the bytes it saves are worth.
const minDeflate = 4 << 10

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
		cost := e.Size + e.Extra + zipOverhead + 2*int64(len(e.Path))
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
		n += e.Size + e.Extra + zipOverhead + 2*int64(len(e.Path))
	}
	return n
}
