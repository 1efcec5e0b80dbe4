// Package tmpfile makes temporary files that a crash cannot leave behind
// for good: each lives in a folder the tool owns and is held, for as long
// as its creator has it open, by an exclusive flock(2). A later run sweeps
// the folder and removes every file no live process holds, so the files of
// a process killed with SIGKILL (whose locks the kernel drops) go at the
// next run's start, while those of a concurrent run (another shard, on
// this host or, over NFS, another) stay untouched.
//
// Names never matter for telling temporaries from real files: the folder
// does. Nothing outside the folder is ever swept.
package tmpfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"syscall"
)

// createTries bounds the retries when a sweep removed a file between its
// creation and its locking (or the folder between making and using it).
const createTries = 20

// Dir is a folder of temporaries.
type Dir struct {
	Root *os.Root
	Name string // the folder, inside Root (made when needed)
	// Private, for folders in a shared place such as /tmp, refuses a
	// folder owned by another user (root excepted) or writable by group or
	// others: its owner could swap a temporary for a link while it is used
	// by name (ffmpeg writes to a path).
	Private bool
}

// Create makes a new file prefix<random>suffix in the folder and returns
// it open for reading and writing, locked, with its name relative to Root
// (the file's Name is its full path). The caller closes and removes it; a
// crash leaves it for the next Sweep.
func (d Dir) Create(prefix, suffix string) (*os.File, string, error) {
	var lastErr error
	for range createTries {
		err := d.Root.MkdirAll(d.Name, 0o700)
		if err == nil {
			err = d.check()
		}
		if swept(err) { // a sweep removed the empty folder meanwhile
			lastErr = err
			continue
		}
		if err != nil {
			return nil, "", err
		}
		name := path.Join(d.Name, prefix+random()+suffix)
		f, err := d.Root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrNotExist) {
			lastErr = err
			continue
		}
		if err != nil {
			return nil, "", err
		}
		// A sweep that ran between the open and the lock took the lock
		// first and unlinked the file: start again with a new one.
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			d.Root.Remove(name)
			return nil, "", fmt.Errorf("lock %s: %w", name, err)
		}
		if linked(f) {
			return f, name, nil
		}
		f.Close()
		lastErr = fmt.Errorf("%s: removed by a concurrent sweep", name)
	}
	return nil, "", lastErr
}

// swept reports an error from making or checking the folder while a sweep
// removed it: not found, or found by mkdir and gone by its stat.
func swept(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist)
}

// check refuses a folder that is a symlink (a sweep through it would
// remove the files it points at) and, when Private, one another user can
// write into.
func (d Dir) check() error {
	fi, err := d.Root.Lstat(d.Name)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a folder (%v); remove it", path.Join(d.Root.Name(), d.Name), fi.Mode().Type())
	}
	if !d.Private {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm()&0o022 != 0 || ok && st.Uid != uint32(os.Geteuid()) && st.Uid != 0 {
		return fmt.Errorf("%s: not a private folder of this user (mode %v); remove it or set TMPDIR elsewhere",
			path.Join(d.Root.Name(), d.Name), fi.Mode())
	}
	return nil
}

// Sweep removes the files in the folder that no live process holds and
// returns how many it removed. A missing folder is no error; one left
// empty is removed too.
func (d Dir) Sweep() (int, error) {
	root, dir := d.Root, d.Name
	if err := d.check(); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	entries, err := fs.ReadDir(root.FS(), dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		removed, err := sweepOne(root, path.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
		}
		if removed {
			n++
		}
	}
	root.Remove(dir) // only succeeds once empty
	return n, errors.Join(errs...)
}

// sweepOne removes name if no process holds its lock. The lock is held
// while unlinking, so a creator that locks after us sees the file gone.
func sweepOne(root *os.Root, name string) (bool, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false, nil // held: a live writer
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if !linked(f) {
		return false, nil
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return true, nil
}

// linked reports whether the open file still has a name.
func linked(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || st.Nlink > 0
}

func random() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
