package export

import (
	"errors"
	"fmt"
	"os"
)

// openRegular opens path for reading only if it is a regular file: a
// symlink, FIFO, socket or device is refused without being opened or
// followed, and a file swapped for one between the look and the open is
// refused too (openFlags, then fstat). It returns the size fstat saw.
func openRegular(path string) (*os.File, int64, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, 0, err
	}
	if !before.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("is a %s, not a regular file: not followed or read", fileKind(before.Mode()))
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("changed while being checked: %w", err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("is a %s, not a regular file: not read", fileKind(fi.Mode()))
	case !os.SameFile(before, fi):
		err = errors.New("replaced while being checked: check again")
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}
