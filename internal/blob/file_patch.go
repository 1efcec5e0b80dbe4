package blob

import (
	"context"
	"fmt"
	"os"
	"path"
)

var _ PatchPutter = (*FileStore)(nil)

// fileBufSize is how much a file upload gathers before a write(2): zip
// headers and directory records are small writes.
const fileBufSize = 1 << 20

// PutPatchable implements PatchPutter. The object is written to a temporary
// file, patched in place (pwrite) and renamed into place by Commit, as Put
// does. Its SHA-256 is computed as bytes are flushed; a range that was
// held when its bytes reached the file is hashed by reading it back from
// the page cache once it is released.
func (s *FileStore) PutPatchable(ctx context.Context, key string, opts PutOptions) (PatchWriter, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	r, err := s.root(true)
	if err != nil {
		return nil, err
	}
	if dir := path.Dir(key); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	// A locked temporary in the store's own folder, as Put uses: kept open
	// (so locked against sweeps) until it has its name.
	f, tmp, err := s.createTemp(r)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", key, err)
	}
	return &fileUpload{ctx: ctx, s: s, root: r, key: key, tmp: tmp, opts: opts, f: f,
		buf: make([]byte, 0, fileBufSize), sum: newOrderedHash()}, nil
}

// fileUpload is a PatchWriter into a temporary file.
type fileUpload struct {
	ctx  context.Context
	s    *FileStore
	root *os.Root
	key  string
	tmp  string
	opts PutOptions
	f    *os.File

	buf     []byte // bytes from flushed on, not yet written to f
	flushed int64  // bytes in f
	held    held
	sum     *orderedHash
	err     error // sticky
}

func (u *fileUpload) Write(b []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	total := len(b)
	for len(b) > 0 {
		if len(u.buf) == cap(u.buf) {
			if err := u.flush(); err != nil {
				return 0, err
			}
		}
		n := copy(u.buf[len(u.buf):cap(u.buf)], b)
		u.buf = u.buf[:len(u.buf)+n]
		b = b[n:]
	}
	return total, nil
}

func (u *fileUpload) size() int64 { return u.flushed + int64(len(u.buf)) }

func (u *fileUpload) Hold(b []byte) error {
	if err := u.held.hold(u.size(), len(b)); err != nil {
		return u.fail(err)
	}
	_, err := u.Write(b)
	return err
}

// Patch rewrites bytes still in the buffer there, and bytes already in
// the file with pwrite.
func (u *fileUpload) Patch(off int64, b []byte) error {
	if err := u.held.check(off, len(b)); err != nil {
		return u.fail(err)
	}
	if n := u.flushed - off; n > 0 {
		n = min(n, int64(len(b)))
		if _, err := u.f.WriteAt(b[:n], off); err != nil {
			return u.fail(fmt.Errorf("write %s: %w", u.key, err))
		}
		off, b = off+n, b[n:]
	}
	if len(b) > 0 {
		copy(u.buf[off-u.flushed:], b)
	}
	return nil
}

func (u *fileUpload) Release() error {
	if err := u.held.release(); err != nil {
		return u.fail(err)
	}
	return nil
}

// flush writes the buffer to the file and hashes what is final.
func (u *fileUpload) flush() error {
	if err := u.ctx.Err(); err != nil {
		return u.fail(err)
	}
	if !u.held.on {
		if err := u.sum.catchUp(u.f, u.flushed); err != nil {
			return u.fail(fmt.Errorf("write %s: %w", u.key, err))
		}
		u.sum.final(u.flushed, u.buf)
	}
	if _, err := u.f.Write(u.buf); err != nil {
		return u.fail(fmt.Errorf("write %s: %w", u.key, err))
	}
	u.flushed += int64(len(u.buf))
	if u.opts.Progress != nil {
		u.opts.Progress(int64(len(u.buf)))
	}
	u.buf = u.buf[:0]
	return nil
}

func (u *fileUpload) fail(err error) error {
	if u.err == nil {
		u.err = err
	}
	return err
}

func (u *fileUpload) Commit() (Info, error) {
	defer u.Abort()
	if u.held.on {
		return Info{}, fmt.Errorf("put %s: %w", u.key, errHeld)
	}
	if err := u.flush(); err != nil {
		return Info{}, err
	}
	if err := u.sum.catchUp(u.f, u.flushed); err != nil {
		return Info{}, fmt.Errorf("put %s: %w", u.key, err)
	}
	if err := u.f.Sync(); err != nil {
		return Info{}, fmt.Errorf("write %s: %w", u.key, err)
	}
	if err := u.f.Chmod(0o644); err != nil { // temporaries are private
		return Info{}, fmt.Errorf("write %s: %w", u.key, err)
	}
	// Named while still open, so still locked: a sweep never takes it.
	err := u.s.commit(u.root, u.tmp, u.key, u.opts)
	cerr := u.f.Close()
	u.f = nil
	u.root.Remove(u.tmp)   // no-op once renamed
	u.root.Remove(TempDir) // only once empty: leave nothing behind
	if err != nil {
		return Info{}, err
	}
	if cerr != nil {
		return Info{}, fmt.Errorf("write %s: %w", u.key, cerr)
	}
	fi, err := u.root.Stat(u.key)
	if err != nil {
		return Info{}, err
	}
	info := fileInfo(u.key, fi)
	info.SHA256 = u.sum.sum()
	return info, nil
}

// Abort removes the temporary file; after a successful Commit it has
// already been renamed away, and removing it is a no-op.
func (u *fileUpload) Abort() {
	if u.f != nil {
		u.f.Close()
		u.f = nil
	}
	u.root.Remove(u.tmp)
	u.root.Remove(TempDir) // only once empty
	u.fail(fmt.Errorf("put %s: upload ended", u.key))
}
