package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Folder is a read-only view of the objects of a store under one prefix
// (a folder, ending in "/"), for a reader that must see nothing else: the
// export of one user reads through a Folder of broadcasts/<user_id>/.
//
// On a folder on disk it reads only regular files physically inside the
// folder: the folder is opened as its own os.Root, so a link inside it that
// leads anywhere else (another user, users.jsonl, outside the source) is
// refused; a folder that is itself a link is refused; FIFOs, sockets and
// devices are never opened for reading. On other stores (S3 has no links)
// it refuses keys outside the prefix and keys with empty, "." or ".."
// parts, which a folder on disk could not hold.
type Folder struct {
	prefix string
	store  Store    // the store, for stores without a folder on disk
	root   *os.Root // the folder on disk; nil when it does not exist
	name   string
}

var _ Store = (*Folder)(nil)

// FolderOpener is a store that confines a Folder physically, not only by
// key: a folder on disk, where links and special files exist.
type FolderOpener interface {
	OpenFolder(prefix string) (*Folder, error)
}

// OpenFolder returns the read-only view of s under prefix. A folder that
// cannot be read safely (a link, a FIFO) is a *RefusedError; one that does
// not exist is an empty Folder. Close it when done.
func OpenFolder(s Store, prefix string) (*Folder, error) {
	if !strings.HasSuffix(prefix, "/") || cleanKeyParts(strings.TrimSuffix(prefix, "/")) != nil {
		return nil, fmt.Errorf("invalid folder %q", prefix)
	}
	if fo, ok := s.(FolderOpener); ok {
		return fo.OpenFolder(prefix)
	}
	return &Folder{prefix: prefix, store: s, name: s.String()}, nil
}

// EmptyFolder is a Folder with nothing in it, for a folder that must not
// be read.
func EmptyFolder(prefix string) *Folder {
	return &Folder{prefix: prefix, name: "(nothing read of " + prefix + ")"}
}

// OpenFolder implements FolderOpener: each folder on the way is opened
// only if it is a real folder, not a link to one.
func (s *FileStore) OpenFolder(prefix string) (*Folder, error) {
	f := &Folder{prefix: prefix, name: strings.TrimSuffix(s.dir, "/") + "/" + prefix}
	r, err := s.root(false)
	if errors.Is(err, ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.TrimSuffix(prefix, "/"), "/")
	cur := r
	for i, name := range parts {
		sub, err := openRealDir(cur, name, strings.Join(parts[:i+1], "/"))
		if cur != r {
			cur.Close()
		}
		if errors.Is(err, ErrNotExist) {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		cur = sub
	}
	f.root = cur
	return f, nil
}

// openRealDir opens the folder name of parent as a root, if it is a real
// folder: not a link (os.Root would follow it), not a FIFO (which would
// block). The opened folder is checked to be the one looked at.
func openRealDir(parent *os.Root, name, key string) (*os.Root, error) {
	lfi, err := parent.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if lfi.Mode()&fs.ModeSymlink != 0 {
		return nil, &RefusedError{Key: key, Reason: "a symbolic link to a folder; not followed"}
	}
	if !lfi.IsDir() {
		return nil, refusedKind(key, lfi.Mode())
	}
	sub, err := openDirRoot(parent, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	sfi, err := sub.Stat(".")
	if err != nil || !os.SameFile(lfi, sfi) {
		sub.Close()
		return nil, &RefusedError{Key: key, Reason: "changed while being opened; not read"}
	}
	return sub, nil
}

// openDirRoot opens a folder as an os.Root without ever blocking: the
// folder is opened with O_DIRECTORY|O_NONBLOCK (a FIFO swapped in fails
// at once), then the root is made from that descriptor through /proc
// where there is one; elsewhere Root.OpenRoot is the fallback.
func openDirRoot(parent *os.Root, name string) (*os.Root, error) {
	d, err := parent.OpenFile(name, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if r, err := os.OpenRoot(fmt.Sprintf("/proc/self/fd/%d", d.Fd())); err == nil {
		return r, nil
	}
	return parent.OpenRoot(name)
}

func (f *Folder) String() string { return f.name }

// Close releases the folder.
func (f *Folder) Close() error {
	if f.root != nil {
		return f.root.Close()
	}
	return nil
}

// rel checks that key is inside the folder and returns it relative to it.
func (f *Folder) rel(key string) (string, error) {
	rel, ok := strings.CutPrefix(key, f.prefix)
	if !ok || cleanKeyParts(rel) != nil {
		return "", &RefusedError{Key: key, Reason: "not a plain key inside " + f.prefix + "; not read"}
	}
	return rel, nil
}

// cleanKeyParts refuses empty, "." and ".." parts.
func cleanKeyParts(p string) error {
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("%q has an empty, . or .. part", p)
		}
	}
	return nil
}

func (f *Folder) openFile(key string) (*os.File, fs.FileInfo, error) {
	rel, err := f.rel(key)
	if err != nil {
		return nil, nil, err
	}
	if f.root == nil {
		return nil, nil, fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	return openRegular(f.root, rel, key, f.prefix)
}

// Get implements Store.
func (f *Folder) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if f.store != nil {
		if _, err := f.rel(key); err != nil {
			return nil, err
		}
		return f.store.Get(ctx, key)
	}
	file, _, err := f.openFile(key)
	return file, err
}

// Open implements Store.
func (f *Folder) Open(ctx context.Context, key string) (ReaderAt, error) {
	if f.store != nil {
		if _, err := f.rel(key); err != nil {
			return nil, err
		}
		return f.store.Open(ctx, key)
	}
	file, fi, err := f.openFile(key)
	if err != nil {
		return nil, err
	}
	return fileReaderAt{file, fi.Size()}, nil
}

// Stat implements Store.
func (f *Folder) Stat(ctx context.Context, key string) (Info, error) {
	if f.store != nil {
		if _, err := f.rel(key); err != nil {
			return Info{}, err
		}
		return f.store.Stat(ctx, key)
	}
	file, fi, err := f.openFile(key)
	if err != nil {
		return Info{}, err
	}
	file.Close()
	return fileInfo(key, fi), nil
}

// List implements Store: the objects ListChecked offers, without the
// refusals.
func (f *Folder) List(ctx context.Context, prefix string, fn func(Info) error) error {
	return f.ListChecked(ctx, prefix, func(info Info, err error) error {
		if IsRefused(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(info)
	})
}

// ListChecked calls fn, in key order, for every entry under prefix (which
// must be inside the folder): an object with a nil error, or an entry
// that will not be read with a *RefusedError naming it and why.
func (f *Folder) ListChecked(ctx context.Context, prefix string, fn func(Info, error) error) error {
	if !strings.HasPrefix(prefix, f.prefix) {
		return fmt.Errorf("list %q: outside %s", prefix, f.prefix)
	}
	if f.store != nil {
		return f.store.List(ctx, prefix, func(info Info) error {
			if _, err := f.rel(info.Key); err != nil {
				return fn(Info{Key: info.Key}, err)
			}
			return fn(info, nil)
		})
	}
	if f.root == nil {
		return nil
	}
	w := walker{root: f.root, base: f.prefix, within: f.prefix}
	return w.walk(ctx, ".", prefix, fn)
}

// Put implements Store: a Folder is read-only.
func (f *Folder) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Info, error) {
	return Info{}, fmt.Errorf("put %s: %s is read-only", key, f.name)
}

// Delete implements Store: a Folder is read-only.
func (f *Folder) Delete(ctx context.Context, key string) error {
	return fmt.Errorf("delete %s: %s is read-only", key, f.name)
}

// ListEachFolder lists the entries under prefix (a folder, ending in "/")
// as ListChecked does, except that each folder directly under it is read
// as OpenFolder reads it: a link inside broadcasts/alice/ that leads out of
// it is refused here just as the export of alice refuses it. It lets one
// walk see what every per-user read will see.
func (s *FileStore) ListEachFolder(ctx context.Context, prefix string, fn func(Info, error) error) error {
	top, err := s.OpenFolder(prefix)
	if IsRefused(err) {
		return fn(Info{Key: strings.TrimSuffix(prefix, "/")}, err)
	}
	if err != nil || top.root == nil {
		return err
	}
	defer top.Close()
	w := walker{root: top.root, base: prefix, within: prefix}
	entries, err := w.readDir(".")
	if err != nil {
		return err
	}
	for _, d := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		key := prefix + d.Name()
		if !d.IsDir() {
			if isTemp(key) {
				continue
			}
			if err := fn(w.entry(d.Name(), key, d)); err != nil {
				return err
			}
			continue
		}
		sub, err := s.OpenFolder(key + "/")
		if IsRefused(err) {
			err = fn(Info{Key: key}, err)
		} else if err == nil {
			err = sub.ListChecked(ctx, key+"/", fn)
			sub.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}
