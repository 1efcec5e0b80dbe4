package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// PatchPutter is a Store that can take an object as a stream whose most
// recent bytes may still be rewritten. A zip writer needs it: a stored
// entry's local header (with its CRC-32) goes out before the entry's data,
// and its CRC-32 is known only after the data has gone by. Find it with a
// type assertion on the Store.
type PatchPutter interface {
	PutPatchable(ctx context.Context, key string, opts PutOptions) (PatchWriter, error)
}

// PatchWriter is one object being written. Write appends. Hold appends
// bytes that stay patchable until Release, and Patch rewrites them; at most
// one range is held at a time, and a store may keep whatever holds it (a
// multipart part) in memory until Release. Commit stores the object as
// written and patched, and fails while a range is held; a failed Commit,
// like Abort, leaves nothing under the key. The Info Commit returns carries
// the SHA-256 of the stored bytes, when the store could compute it.
type PatchWriter interface {
	io.Writer
	Hold(b []byte) error
	Patch(off int64, b []byte) error
	Release() error
	Commit() (Info, error)
	Abort()
}

var errHeld = errors.New("a patchable range is still held")

// held tracks the patchable range of a PatchWriter: [start, end).
type held struct {
	on         bool
	start, end int64
}

func (h *held) hold(off int64, n int) error {
	if h.on {
		return fmt.Errorf("hold at %d: %w", off, errHeld)
	}
	*h = held{on: true, start: off, end: off + int64(n)}
	return nil
}

func (h *held) check(off int64, n int) error {
	if !h.on || off < h.start || off+int64(n) > h.end {
		return fmt.Errorf("patch %d bytes at %d: outside the held range", n, off)
	}
	return nil
}

func (h *held) release() error {
	if !h.on {
		return errors.New("release: nothing held")
	}
	h.on = false
	return nil
}

// orderedHash computes an object's SHA-256 from its bytes as they become
// final, in order. Bytes that become final after later ones (a held header
// whose data went on ahead of it) leave a gap: the hash then goes on from
// the stored bytes, read back once more (catchUp). Reading back is what
// single-pass patching costs: SHA-256 cannot take a header after its data.
type orderedHash struct {
	h   hash.Hash
	n   int64  // bytes hashed: the hash covers [0, n)
	buf []byte // for reading back, made on first use
}

func newOrderedHash() *orderedHash { return &orderedHash{h: sha256.New()} }

// final offers b, final from off on. It is hashed if it continues the
// hash; otherwise it is left for catchUp.
func (o *orderedHash) final(off int64, b []byte) {
	if off == o.n {
		o.h.Write(b)
		o.n += int64(len(b))
	}
}

// catchUp hashes [n, upto) read back from ra.
func (o *orderedHash) catchUp(ra io.ReaderAt, upto int64) error {
	if upto <= o.n {
		return nil
	}
	if o.buf == nil {
		o.buf = make([]byte, 256<<10)
	}
	n, err := io.CopyBuffer(o.h, io.NewSectionReader(ra, o.n, upto-o.n), o.buf)
	o.n += n
	if err != nil {
		return fmt.Errorf("read back for SHA-256: %w", err)
	}
	return nil
}

func (o *orderedHash) sum() string { return hex.EncodeToString(o.h.Sum(nil)) }
