package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
)

// PartSumsName is the file the download portal offers next to the parts:
// "<sha256>  <part file name>" lines, as sha256sum -c reads them.
const PartSumsName = "SHA256SUMS"

// maxPartSums caps the SHA256SUMS read: a line is under 150 bytes and a
// user has at most 999 parts, so a genuine one is under 150 KB.
const maxPartSums = 1 << 20

// readPartSums reads SHA256SUMS from dir if it is there (nil if not). It
// is the one thing in a download folder that comes from the operator
// rather than from inside the parts: checking the parts against it ties
// them to what the portal published, which the bag's own manifests cannot.
func readPartSums(dir string) (map[string]string, error) {
	f, size, err := openRegular(filepath.Join(dir, PartSumsName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PartSumsName, err)
	}
	defer f.Close()
	if size > maxPartSums {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a list of parts needs: not read", PartSumsName, size, maxPartSums)
	}
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(f, maxPartSums)); err != nil {
		return nil, fmt.Errorf("%s: %w", PartSumsName, err)
	}
	sums, err := parseChecksumFile(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PartSumsName, err)
	}
	return sums, nil
}

// checkPartSums compares the user's parts with SHA256SUMS when it lists
// any of them: every part it lists must be there with that checksum, and
// every part there must be listed. A SHA256SUMS about other users' parts
// says nothing about these.
func checkPartSums(v *bagCheck, dir, uid string, g *partSet, sums map[string]string) {
	present, listed := map[string]bool{}, false
	for _, name := range g.files {
		present[name] = true
		_, ok := sums[name]
		listed = listed || ok
	}
	if !listed {
		return
	}
	for _, name := range sortedKeys(sums) {
		if m := partFile.FindStringSubmatch(name); m != nil && m[1] == uid && !present[name] {
			v.problem("%s: listed in %s, missing: download it again", name, PartSumsName)
		}
	}
	for _, name := range sortedKeys(present) {
		want, ok := sums[name]
		if !ok {
			v.problem("%s: not listed in %s: not a part the portal offered", name, PartSumsName)
			continue
		}
		if got, err := fileSHA256(filepath.Join(dir, name)); err != nil {
			v.problem("%s: %v", name, err)
		} else if got != want {
			v.problem("%s: sha256 %s, %s says %s: download it again", name, got, PartSumsName, want)
		}
	}
}

func fileSHA256(path string) (string, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
