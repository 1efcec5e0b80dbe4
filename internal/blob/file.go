package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// FileStore keeps objects as files under a root folder. Every access goes
// through os.Root, so no key (and no symlink inside the tree) can reach a
// file outside the root. Writes go to a temporary name in the target folder
// and are renamed into place: readers see a whole file or none.
type FileStore struct {
	dir string

	mu   sync.Mutex
	open *os.Root // opened once the folder exists, then kept for the store's life
}

var _ Store = (*FileStore)(nil)

// NewFile returns a store rooted at dir. The folder need not exist yet.
func NewFile(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("empty folder name")
	}
	return &FileStore{dir: dir}, nil
}

func (s *FileStore) String() string { return s.dir }

// root returns the root folder, opened once (an export opens thousands of
// objects; os.Root is safe for concurrent use); create makes it first.
func (s *FileStore) root(create bool) (*os.Root, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != nil {
		return s.open, nil
	}
	if create {
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, err
		}
	}
	r, err := os.OpenRoot(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", s.dir, ErrNotExist)
	}
	if err != nil {
		return nil, err
	}
	s.open = r
	return r, nil
}

func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || path.Clean(key) != key || key == "." ||
		key == ".." || strings.HasPrefix(key, "../") {
		return fmt.Errorf("invalid key %q", key)
	}
	return nil
}

func (s *FileStore) openFile(key string) (*os.File, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	r, err := s.root(false)
	if err != nil {
		return nil, err
	}
	f, err := r.Open(key)
	if err != nil {
		return nil, fileErr(key, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", key)
	}
	return f, nil
}

// Get implements Store.
func (s *FileStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.openFile(key)
}

type fileReaderAt struct {
	*os.File
	size int64
}

func (f fileReaderAt) Size() int64 { return f.size }

// Open implements Store.
func (s *FileStore) Open(ctx context.Context, key string) (ReaderAt, error) {
	f, err := s.openFile(key)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return fileReaderAt{f, fi.Size()}, nil
}

// Stat implements Store.
func (s *FileStore) Stat(ctx context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	r, err := s.root(false)
	if err != nil {
		return Info{}, err
	}
	fi, err := r.Stat(key)
	if err != nil {
		return Info{}, fileErr(key, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	return fileInfo(key, fi), nil
}

// fileInfo describes a file. Its ETag joins the inode (every Put renames a
// new file into place, so a new inode), size and mtime: a rewrite within one
// timestamp tick still gets a new ETag.
func fileInfo(key string, fi fs.FileInfo) Info {
	etag := strconv.FormatInt(fi.Size(), 16) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 16)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		etag = strconv.FormatUint(uint64(st.Ino), 16) + "-" + etag
	}
	return Info{Key: key, Size: fi.Size(), ETag: etag, ModTime: fi.ModTime()}
}

func fileErr(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	return err
}

// List implements Store. Symlinks are followed only while they stay inside
// the root; one that points outside is an error naming it.
func (s *FileStore) List(ctx context.Context, prefix string, fn func(Info) error) error {
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
	if fi, err := r.Stat(start); errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
		return nil
	}
	return listDir(ctx, r, start, prefix, fn)
}

// listDir calls fn for the files under dir whose keys start with prefix, in
// key order. That is not the order of names in a folder: the keys under
// folder "a" all start "a/", so "a" sorts after "a-b" and before "a0".
func listDir(ctx context.Context, r *os.Root, dir, prefix string, fn func(Info) error) error {
	entries, err := fs.ReadDir(r.FS(), dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int {
		return strings.Compare(sortName(a), sortName(b))
	})
	for _, d := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := path.Join(dir, d.Name())
		if d.IsDir() {
			if strings.HasPrefix(p+"/", prefix) || strings.HasPrefix(prefix, p+"/") {
				if err := listDir(ctx, r, p, prefix, fn); err != nil {
					return err
				}
			}
			continue
		}
		if !strings.HasPrefix(p, prefix) || isTemp(p) {
			continue
		}
		fi, err := r.Stat(p) // follows symlinks, refusing any that leave the root
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if err := fn(fileInfo(p, fi)); err != nil {
			return err
		}
	}
	return nil
}

func sortName(d fs.DirEntry) string {
	if d.IsDir() {
		return d.Name() + "/"
	}
	return d.Name()
}

const tempMarker = ".partial-"

func isTemp(p string) bool { return strings.Contains(path.Base(p), tempMarker) }

// tempName is where a write to key goes until it is renamed into place:
// hidden, beside the key, and skipped by List.
func tempName(key string) string {
	return path.Join(path.Dir(key), "."+path.Base(key)+tempMarker+randomSuffix())
}

// Put implements Store.
func (s *FileStore) Put(ctx context.Context, key string, src io.Reader, opts PutOptions) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	r, err := s.root(true)
	if err != nil {
		return Info{}, err
	}
	if dir := path.Dir(key); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return Info{}, err
		}
	}
	tmp := tempName(key)
	f, err := r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return Info{}, err
	}
	defer r.Remove(tmp) // no-op once renamed
	if err := copyToFile(ctx, f, src, opts.Progress); err != nil {
		f.Close()
		return Info{}, fmt.Errorf("write %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("write %s: %w", key, err)
	}
	if err := s.commit(r, tmp, key, opts); err != nil {
		return Info{}, err
	}
	fi, err := r.Stat(key)
	if err != nil {
		return Info{}, err
	}
	return fileInfo(key, fi), nil
}

// commit moves a finished temporary file into place, honouring the
// conditions in opts. IfNoneMatch uses link(2), which fails if the target
// exists, so two writers can never both win.
//
// IfMatch holds an exclusive flock(2) on the key's folder from the check to
// the rename, so two conditional writers (in any process) cannot both see
// the old ETag and both replace it.
func (s *FileStore) commit(r *os.Root, tmp, key string, opts PutOptions) error {
	if opts.IfMatch != "" {
		unlock, err := lockDir(r, path.Dir(key))
		if err != nil {
			return fmt.Errorf("put %s: lock: %w", key, err)
		}
		defer unlock()
		fi, err := r.Stat(key)
		if err != nil || fileInfo(key, fi).ETag != opts.IfMatch {
			return fmt.Errorf("put %s: %w", key, ErrPrecondition)
		}
	}
	if opts.IfNoneMatch {
		if err := r.Link(tmp, key); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("put %s: %w", key, ErrPrecondition)
			}
			return err
		}
		return nil
	}
	return r.Rename(tmp, key)
}

func copyToFile(ctx context.Context, f *os.File, src io.Reader, progress func(int64)) error {
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := src.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return err
			}
			if progress != nil {
				progress(int64(n))
			}
		}
		if rerr == io.EOF {
			return f.Sync()
		}
		if rerr != nil {
			return rerr
		}
	}
}

// Delete implements Store.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	r, err := s.root(false)
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lockDir takes an exclusive flock(2) on a folder inside the root.
func lockDir(r *os.Root, dir string) (unlock func(), err error) {
	d, err := r.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
		d.Close()
	}, nil
}
