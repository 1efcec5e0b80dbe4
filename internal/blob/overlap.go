package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Overlaps reports whether two store locations, as Open takes them, can
// share objects: the same place, or one inside the other. Writing into a
// location that overlaps the one being read would overwrite or mix with
// the data being exported, so commands refuse such pairs before writing.
//
// Local paths and file:// URLs are compared as absolute paths with the
// symlinks of their existing part resolved, and folder by folder with
// os.SameFile, so an alias (a symlink, a bind mount, a case-insensitive
// file system) is caught. S3 URLs overlap when they name the same bucket
// (compared without regard to case) and one prefix starts the other at a
// "/" boundary: s3://b holds s3://b/x, s3://b/x does not hold s3://b/xy.
// A local location never overlaps an S3 one. The endpoint is not part of
// a location, so the same bucket name on two S3 servers counts as one.
func Overlaps(a, b string) (bool, error) {
	la, err := parseLocation(a)
	if err != nil {
		return false, err
	}
	lb, err := parseLocation(b)
	if err != nil {
		return false, err
	}
	switch {
	case la.s3 != lb.s3:
		return false, nil
	case la.s3:
		return strings.EqualFold(la.bucket, lb.bucket) &&
			(strings.HasPrefix(la.prefix, lb.prefix) || strings.HasPrefix(lb.prefix, la.prefix)), nil
	default:
		return within(la.path, lb.path) || within(lb.path, la.path), nil
	}
}

type location struct {
	s3             bool
	bucket, prefix string // S3; prefix "" or ending in "/"
	path           string // local: absolute, symlinks of the existing part resolved
}

func parseLocation(raw string) (location, error) {
	if raw == "" {
		return location{}, errors.New("empty store location")
	}
	if strings.HasPrefix(raw, "s3://") {
		bucket, prefix, err := ParseS3URL(raw)
		return location{s3: true, bucket: bucket, prefix: prefix}, err
	}
	p, err := localPath(raw)
	if err != nil {
		return location{}, err
	}
	if p, err = filepath.Abs(p); err != nil {
		return location{}, fmt.Errorf("%s: %w", raw, err)
	}
	p, err = resolveExisting(p)
	if err != nil {
		return location{}, fmt.Errorf("%s: %w", raw, err)
	}
	return location{path: p}, nil
}

// resolveExisting resolves the symlinks of the longest part of an absolute
// path that exists; the rest (a destination not made yet) is kept as given.
func resolveExisting(p string) (string, error) {
	rest := ""
	for {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest), nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// within says whether path child is parent or inside it, by name or by
// identity of a folder on the way up.
func within(child, parent string) bool {
	pi, perr := os.Stat(parent)
	for p := child; ; p = filepath.Dir(p) {
		if p == parent {
			return true
		}
		if perr == nil {
			if fi, err := os.Stat(p); err == nil && os.SameFile(fi, pi) {
				return true
			}
		}
		if filepath.Dir(p) == p {
			return false
		}
	}
}
