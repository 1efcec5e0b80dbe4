package export

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// partFile matches the names of downloaded parts, as partKey makes them.
var partFile = regexp.MustCompile(`^periscope-([A-Za-z0-9_-]{1,64}?)(?:-part-(\d{3})-of-(\d{3}))?\.zip$`)

// LooksLikeDownload reports whether dir is what a user has after a download:
// an extracted bag (bagit.txt at the top) or zip parts of an export.
func LooksLikeDownload(dir string) bool {
	if _, err := os.Lstat(filepath.Join(dir, bagitTxt)); err == nil {
		return true
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if partFile.MatchString(e.Name()) {
			return true
		}
	}
	return false
}

// VerifyDownload checks, on the user's side, a folder holding either an
// extracted export or the zip parts of one or more exports as downloaded.
// Without manifest.json it checks what the bag itself promises: every
// payload file against manifest-sha256.txt, the tag files against
// tagmanifest-sha256.txt, Payload-Oxum, and that no part is missing.
//
// It trusts nothing it reads: a file or zip entry no manifest lists, a
// name that would land outside the folder when extracted, a symlink, a
// FIFO, a device or a duplicate name is reported, never followed, opened
// or extracted; tag files are read only up to what a bag of that many
// files could need (tagCap), and payload is hashed as it streams, so
// memory stays bounded by the size of the folder's listing, not its bytes.
func VerifyDownload(dir string) ([]UserCheck, error) {
	if _, err := os.Lstat(filepath.Join(dir, bagitTxt)); err == nil {
		c := verifyBagDir(dir)
		if !c.OK() {
			return []UserCheck{c}, &VerifyError{Bad: 1, Total: 1}
		}
		return []UserCheck{c}, nil
	}
	groups, err := groupParts(dir)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("%s: no bagit.txt and no periscope-*.zip parts", dir)
	}
	sums, err := readPartSums(dir)
	if err != nil {
		return nil, err
	}
	var out []UserCheck
	bad := 0
	for _, uid := range sortedKeys(groups) {
		c := verifyParts(dir, uid, groups[uid], sums)
		if !c.OK() {
			bad++
		}
		out = append(out, c)
	}
	if bad > 0 {
		return out, &VerifyError{Bad: bad, Total: len(out)}
	}
	return out, nil
}

type partSet struct {
	count int            // parts the names announce (1 for a single part)
	files map[int]string // part number -> file name
	odd   []string       // files whose names do not fit the set: problems
}

func groupParts(dir string) (map[string]*partSet, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	groups := map[string]*partSet{}
	for _, e := range entries {
		m := partFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		n, count := 1, 1
		if m[2] != "" {
			n, _ = strconv.Atoi(m[2])
			count, _ = strconv.Atoi(m[3])
		}
		g := groups[m[1]]
		if g == nil {
			g = &partSet{count: count, files: map[int]string{}}
			groups[m[1]] = g
		}
		g.count = max(g.count, count)
		if n < 1 || n > count {
			g.odd = append(g.odd, fmt.Sprintf("%s: part %d of %d is not a part number", e.Name(), n, count))
			continue
		}
		if other, dup := g.files[n]; dup {
			g.odd = append(g.odd, fmt.Sprintf("%s and %s are both part %d: keep the one the download page lists", other, e.Name(), n))
			continue
		}
		g.files[n] = e.Name()
	}
	return groups, nil
}

// verifyParts checks one user's downloaded parts. Every part's listing is
// read before any entry, so the tag files' cap counts the whole bag and
// a duplicate name is caught whichever part holds it.
func verifyParts(dir, uid string, g *partSet, sums map[string]string) UserCheck {
	c := UserCheck{User: uid, Parts: len(g.files)}
	v := newBagCheck()
	v.problems = append(v.problems, g.odd...)
	checkPartSums(v, dir, uid, g, sums)
	readers := map[int]*zip.Reader{}
	for n := 1; n <= g.count; n++ {
		name, ok := g.files[n]
		if !ok {
			v.problem("part %d of %d is missing: download periscope-%s-part-%03d-of-%03d.zip again", n, g.count, uid, n, g.count)
			continue
		}
		f, size, err := openRegular(filepath.Join(dir, name))
		if err != nil {
			v.problem("%s: %v", name, err)
			continue
		}
		defer f.Close()
		c.Bytes += size
		zr, err := zip.NewReader(f, size)
		if err != nil {
			v.problem("%s: not a readable zip (download it again): %v", name, err)
			continue
		}
		readers[n] = zr
		for _, zf := range zr.File {
			v.expect(zf.Name)
		}
	}
	for n := 1; n <= g.count; n++ {
		zr, ok := readers[n]
		if !ok {
			continue
		}
		for _, zf := range zr.File {
			if err := v.entry(zf, n); err != nil {
				v.problem("%s: %q: %v", g.files[n], zf.Name, err)
			}
		}
	}
	if len(v.problems) == 0 {
		v.checkBag()
	}
	c.Files, c.Problems = len(v.got), v.problems
	return c
}

// verifyBagDir checks an extracted bag on disk. The walk never follows a
// link (WalkDir reports links as links) and lists the folder before
// reading it, for the same reason as verifyParts.
func verifyBagDir(dir string) UserCheck {
	c := UserCheck{User: filepath.Base(dir)}
	v := newBagCheck()
	if root, err := filepath.EvalSymlinks(dir); err == nil {
		dir = root // the folder the user named may be a link; nothing in it is followed
	}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			v.problem("%s", showName(err.Error()))
			return nil
		}
		if p == dir || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			v.problem("%q: is a %s, not a regular file: not followed or read", rel, fileKind(d.Type()))
			return nil
		}
		files = append(files, rel)
		v.expect(rel)
		return nil
	})
	if err != nil {
		v.problem("%v", err)
	}
	for _, rel := range files {
		n, err := v.file(filepath.Join(dir, filepath.FromSlash(rel)), rel)
		if err != nil {
			v.problem("%q: %v", rel, err)
		}
		c.Bytes += n
	}
	v.checkBag()
	c.Files, c.Problems = len(v.got), v.problems
	sort.Strings(c.Problems)
	return c
}

// file hashes one regular file of an extracted bag, opened so that it
// cannot be a link or block (openRegular).
func (v *bagCheck) file(path, rel string) (int64, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return size, v.read(rel, f, size, 0)
}

// fileKind names a non-regular file type for a problem line.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}
