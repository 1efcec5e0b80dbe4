package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
)

// RefusedError is an entry of a folder on disk that a reader will not open:
// a symbolic link that leads outside the folder being read (or nowhere), a
// linked folder, a FIFO, a socket or a device. Such entries are never
// followed and never opened in a way that could block.
type RefusedError struct {
	Key    string
	Reason string
}

func (e *RefusedError) Error() string { return e.Key + ": " + e.Reason }

// IsRefused reports whether err is (or wraps) a *RefusedError.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// kindOf names what a non-regular file is, for a refusal's reason.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file"
}

func refusedKind(key string, m fs.FileMode) error {
	return &RefusedError{Key: key, Reason: kindOf(m) + "; only regular files are read"}
}

// openRegular opens name in r for reading, only if it is a regular file.
// Links are resolved by r, which refuses any that leave it. The file is
// stat'ed first so a FIFO or device is never opened; O_NONBLOCK makes an
// open that loses a race against a swap to a FIFO return at once, and the
// opened descriptor is checked to be the very file that was stat'ed.
func openRegular(r *os.Root, name, key, within string) (*os.File, fs.FileInfo, error) {
	fi, err := r.Stat(name)
	if err != nil {
		return nil, nil, statErr(r, name, key, within, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, refusedKind(key, fi.Mode())
	}
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, statErr(r, name, key, within, err)
	}
	ofi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", key, err)
	}
	if !ofi.Mode().IsRegular() || !os.SameFile(fi, ofi) {
		f.Close()
		return nil, nil, &RefusedError{Key: key, Reason: "changed while being opened; not read"}
	}
	return f, ofi, nil
}

// statErr explains why name could not be reached: missing, a link that
// leads nowhere, a loop, or a link (the entry's own or one on its way)
// that r refused to follow out of itself.
func statErr(r *os.Root, name, key, within string, err error) error {
	switch {
	case errors.Is(err, syscall.ELOOP):
		return &RefusedError{Key: key, Reason: "a loop of symbolic links"}
	case isEscape(err):
		return &RefusedError{Key: key, Reason: "a symbolic link that leads outside " + within + "; not followed"}
	case errors.Is(err, fs.ErrNotExist):
		if lfi, lerr := r.Lstat(name); lerr == nil && lfi.Mode()&fs.ModeSymlink != 0 {
			return &RefusedError{Key: key, Reason: "a symbolic link to nothing"}
		}
		return fileErr(key, err)
	}
	return fmt.Errorf("%s: %w", key, err)
}

// isEscape tells os.Root's refusal to leave its folder. The error is not
// exported, so its text is the only handle on it.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// walker lists a folder on disk without ever following a link out of it or
// opening anything but folders.
type walker struct {
	root   *os.Root
	base   string // key of the root folder: "" or "broadcasts/alice/"
	within string // the root's name in refusals
}

// walk calls fn, in key order, for each entry under dir whose key starts
// with prefix: a regular file (or a link to one inside the root) with its
// Info and a nil error, anything else with a *RefusedError. Links to
// folders are refused rather than followed, so nothing is listed twice
// and no listing loops.
func (w walker) walk(ctx context.Context, dir, prefix string, fn func(Info, error) error) error {
	entries, err := w.readDir(dir)
	if err != nil {
		return err
	}
	for _, d := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := path.Join(dir, d.Name())
		key := w.base + p
		if d.IsDir() {
			if strings.HasPrefix(key+"/", prefix) || strings.HasPrefix(prefix, key+"/") {
				if err := w.walk(ctx, p, prefix, fn); err != nil {
					return err
				}
			}
			continue
		}
		if !strings.HasPrefix(key, prefix) || isTemp(p) {
			continue
		}
		if err := fn(w.entry(p, key, d)); err != nil {
			return err
		}
	}
	return nil
}

func (w walker) entry(p, key string, d fs.DirEntry) (Info, error) {
	if d.Type()&fs.ModeSymlink == 0 {
		fi, err := d.Info()
		if err != nil {
			return Info{Key: key}, fmt.Errorf("%s: %w", key, err)
		}
		if !fi.Mode().IsRegular() {
			return Info{Key: key}, refusedKind(key, fi.Mode())
		}
		return fileInfo(key, fi), nil
	}
	fi, err := w.root.Stat(p)
	switch {
	case err != nil:
		return Info{Key: key}, statErr(w.root, p, key, w.within, err)
	case fi.IsDir():
		return Info{Key: key}, &RefusedError{Key: key, Reason: "a symbolic link to a folder; not followed"}
	case !fi.Mode().IsRegular():
		return Info{Key: key}, &RefusedError{Key: key, Reason: "a symbolic link to " + kindOf(fi.Mode()) + "; only regular files are read"}
	}
	return fileInfo(key, fi), nil
}

// readDir reads a folder's entries, sorted in key order. O_DIRECTORY and
// O_NONBLOCK: a FIFO swapped in for the folder fails at once.
func (w walker) readDir(dir string) ([]fs.DirEntry, error) {
	f, err := w.root.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.base+dir, err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.base+dir, err)
	}
	// Keys under folder "a" all start "a/", so "a" sorts after "a-b" and
	// before "a0": not the order of names in the folder.
	slices.SortFunc(entries, func(a, b fs.DirEntry) int {
		return strings.Compare(sortName(a), sortName(b))
	})
	return entries, nil
}

func sortName(d fs.DirEntry) string {
	if d.IsDir() {
		return d.Name() + "/"
	}
	return d.Name()
}

// ListChecked is List that also reports, with a *RefusedError, each entry
// it does not offer as an object (links that leave the root or lead to a
// folder, FIFOs, sockets, devices), instead of skipping or failing on it.
func (s *FileStore) ListChecked(ctx context.Context, prefix string, fn func(Info, error) error) error {
	r, err := s.root(false)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	// Walk only the folder that can hold matching keys.
	start := "."
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		start = prefix[:i]
	}
	if fi, err := r.Lstat(start); errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
		if err == nil && start != "." {
			// A linked or special folder on the way is reported, not
			// silently taken for an empty one.
			return fn(Info{Key: start}, refusedKind(start, fi.Mode()))
		}
		return nil
	}
	return walker{root: r, within: "the store's folder"}.walk(ctx, start, prefix, fn)
}
