package export

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// partFile matches the names of downloaded parts, as partKey makes them.
var partFile = regexp.MustCompile(`^periscope-([A-Za-z0-9_-]{1,64}?)(?:-part-(\d{3})-of-(\d{3}))?\.zip$`)

// LooksLikeDownload reports whether dir is what a user has after a download:
// an extracted bag (bagit.txt at the top) or zip parts of an export.
func LooksLikeDownload(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, bagitTxt)); err == nil {
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
func VerifyDownload(dir string) ([]UserCheck, error) {
	if _, err := os.Stat(filepath.Join(dir, bagitTxt)); err == nil {
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
	var out []UserCheck
	bad := 0
	for _, uid := range sortedKeys(groups) {
		c := verifyParts(dir, uid, groups[uid])
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
		g.files[n] = e.Name()
	}
	return groups, nil
}

func verifyParts(dir, uid string, g *partSet) UserCheck {
	c := UserCheck{User: uid, Parts: len(g.files)}
	v := &bagCheck{got: map[string]FileRecord{}, tags: map[string][]byte{}}
	for n := 1; n <= g.count; n++ {
		name, ok := g.files[n]
		if !ok {
			v.problem("part %d of %d is missing: download periscope-%s-part-%03d-of-%03d.zip again", n, g.count, uid, n, g.count)
			continue
		}
		zr, err := zip.OpenReader(filepath.Join(dir, name))
		if err != nil {
			v.problem("%s: not a readable zip (download it again): %v", name, err)
			continue
		}
		for _, zf := range zr.File {
			if err := v.entry(zf, n); err != nil {
				v.problem("%s: %s: %v", name, zf.Name, err)
			}
		}
		zr.Close()
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
			c.Bytes += fi.Size()
		}
	}
	if len(v.problems) == 0 {
		v.checkBag()
	}
	c.Files, c.Problems = len(v.got), v.problems
	return c
}

// verifyBagDir checks an extracted bag on disk.
func verifyBagDir(dir string) UserCheck {
	c := UserCheck{User: filepath.Base(dir)}
	v := &bagCheck{got: map[string]FileRecord{}, tags: map[string][]byte{}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sum := sha256.New()
		var keep strings.Builder
		w := io.Writer(sum)
		if isTagFile(rel) {
			w = io.MultiWriter(sum, &keep)
		}
		n, err := io.Copy(w, f)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		v.got[rel] = FileRecord{Path: rel, Size: n, SHA256: hex.EncodeToString(sum.Sum(nil))}
		if isTagFile(rel) {
			v.tags[rel] = []byte(keep.String())
		}
		c.Bytes += n
		return nil
	})
	if err != nil {
		v.problem("%v", err)
	}
	v.checkBag()
	c.Files, c.Problems = len(v.got), v.problems
	sort.Strings(c.Problems)
	return c
}
