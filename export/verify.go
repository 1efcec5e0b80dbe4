package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// VerifyOptions tune Verify. Zero values mean defaults.
type VerifyOptions struct {
	// Users restricts the check to these ids; empty means every user with
	// a manifest.json.
	Users []string
	// Workers is the number of users checked at once (default 4).
	Workers int
	// Progress, when set, is called after each user with its result.
	Progress func(UserCheck)
}

// UserCheck is the verdict on one user's export.
type UserCheck struct {
	User     string   `json:"user"`
	Parts    int      `json:"parts"`
	Files    int      `json:"files"`
	Bytes    int64    `json:"bytes"`
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether the export passed every check.
func (c UserCheck) OK() bool { return len(c.Problems) == 0 }

// VerifyError is returned when at least one export has a problem.
type VerifyError struct{ Bad, Total int }

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%d of %d exports failed verification", e.Bad, e.Total)
}

// Verify re-reads users' exports from dst and checks every part's size and
// SHA-256 against manifest.json, every file in every part against
// manifest.json and the bag's own manifest-sha256.txt and
// tagmanifest-sha256.txt, and the bag's declaration and Payload-Oxum.
func Verify(ctx context.Context, dst blob.Store, opts VerifyOptions) ([]UserCheck, error) {
	users := opts.Users
	if len(users) == 0 {
		var err error
		if users, err = ListExported(ctx, dst); err != nil {
			return nil, err
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = 4
	}
	results := make([]UserCheck, len(users))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, uid := range users {
		g.Go(func() error {
			results[i] = verifyUser(gctx, dst, uid)
			if opts.Progress != nil {
				opts.Progress(results[i])
			}
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return results, err
	}
	bad := 0
	for _, r := range results {
		if !r.OK() {
			bad++
		}
	}
	if bad > 0 {
		return results, &VerifyError{Bad: bad, Total: len(results)}
	}
	return results, nil
}

// ListExported lists the ids of users that have a manifest.json.
func ListExported(ctx context.Context, dst blob.Store) ([]string, error) {
	var users []string
	err := dst.List(ctx, "", func(info blob.Info) error {
		uid, rest, ok := strings.Cut(info.Key, "/")
		if ok && rest == ManifestName && ValidID(uid) {
			users = append(users, uid)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dst, err)
	}
	sort.Strings(users)
	return users, nil
}

func verifyUser(ctx context.Context, dst blob.Store, uid string) UserCheck {
	c := UserCheck{User: uid}
	if err := checkID("user", uid); err != nil {
		c.Problems = append(c.Problems, err.Error())
		return c
	}
	m, err := ReadManifest(ctx, dst, uid)
	if err != nil {
		if isNotExist(err) {
			err = errors.New("no manifest.json: not exported, or the export did not finish")
		}
		c.Problems = append(c.Problems, err.Error())
		return c
	}
	v := newBagCheck()
	for _, f := range m.Files {
		v.want[f.Path] = f
		v.expect(f.Path)
	}
	c.Parts, c.Files, c.Bytes = len(m.Parts), len(m.Files), m.Bytes
	for i, p := range m.Parts {
		if err := v.part(ctx, dst, i+1, p); err != nil {
			v.problem("part %s: %v", p.Key, err)
		}
	}
	v.compare(m)
	c.Problems = v.problems
	return c
}

// bagCheck accumulates what the parts hold and compares it with the
// manifests once every part has been read.
type bagCheck struct {
	want     map[string]FileRecord
	got      map[string]FileRecord
	tags     map[string][]byte // tag files kept for parsing
	seen     map[string]bool   // every entry name met, kept or refused
	tagCap   int64             // the most bytes a tag file may hold: see expect
	problems []string
}

func newBagCheck() *bagCheck {
	return &bagCheck{want: map[string]FileRecord{}, got: map[string]FileRecord{}, tags: map[string][]byte{},
		seen: map[string]bool{}, tagCap: tagSlack}
}

// tagSlack is what bagit.txt and bag-info.txt need beyond the lines
// expect counts: ours are under 1 KiB.
const tagSlack = 64 << 10

// expect counts one file of the bag towards tagCap, before any tag file is
// read. A checksum file has one line per file: 64 hex digits, two spaces,
// the path percent-encoded (at most 3 bytes a byte) and a newline. So no
// tag file of a genuine bag is longer than that sum plus tagSlack, and a
// longer one is refused unread: a 500 KB zip whose manifest inflates to
// 512 MiB costs nothing, and memory stays a small multiple of the listing
// (the zip's central directory or the folder's names), which is already
// in memory, whatever the tag files declare.
func (v *bagCheck) expect(name string) { v.tagCap += int64(64 + 2 + 3*len(name) + 1) }

func (v *bagCheck) problem(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *bagCheck) part(ctx context.Context, dst blob.Store, n int, p PartRecord) error {
	ra, err := dst.Open(ctx, p.Key)
	if err != nil {
		return err
	}
	defer ra.Close()
	if ra.Size() != p.Size {
		return fmt.Errorf("size %d, manifest says %d", ra.Size(), p.Size)
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(ra, 0, ra.Size())); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != p.SHA256 {
		return fmt.Errorf("sha256 %s, manifest says %s", got, p.SHA256)
	}
	zr, err := zip.NewReader(ra, ra.Size())
	if err != nil {
		return fmt.Errorf("not a readable zip: %w", err)
	}
	for _, zf := range zr.File {
		if err := v.entry(zf, n); err != nil {
			v.problem("part %s: %q: %v", p.Key, zf.Name, err)
		}
	}
	return nil
}

// entry checks one zip entry of part n. Its name and type come first: an
// entry an extractor would write outside the folder, or as a link, device
// or directory, is reported and never opened, and a name met before is
// reported (an extractor keeps one of the two, unchecked).
func (v *bagCheck) entry(zf *zip.File, part int) error {
	if v.seen[zf.Name] {
		return errors.New("appears more than once: an extractor would keep only one, unchecked")
	}
	v.seen[zf.Name] = true
	if m := zf.Mode(); !m.IsRegular() {
		return fmt.Errorf("is a %s entry, not a regular file: not followed or extracted", fileKind(m))
	}
	if err := checkEntryName(zf.Name); err != nil {
		return fmt.Errorf("%w: not extracted or read", err)
	}
	if zf.UncompressedSize64 >= math.MaxInt64 {
		return fmt.Errorf("declares %d bytes: not read", zf.UncompressedSize64)
	}
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return v.read(zf.Name, rc, int64(zf.UncompressedSize64), part)
}

// checkEntryName refuses a name that would not extract to the same place
// on every system: absolute, with . or .. or empty components, control
// characters, backslashes (a separator on Windows) or a drive letter.
func checkEntryName(name string) error {
	if len(name) >= 2 && name[1] == ':' {
		return fmt.Errorf("unsafe path %q: drive letter", name)
	}
	return cleanRelPath(name)
}

// read hashes a file of the bag as it streams from r, keeping only a tag
// file's bytes, and only up to tagCap. It reads at most size+1 bytes, so
// an entry that inflates past the size it declares (or a file that grows)
// is caught at the first byte too many.
func (v *bagCheck) read(name string, r io.Reader, size int64, part int) error {
	sum := sha256.New()
	w := io.Writer(sum)
	var keep bytes.Buffer
	tag := isTagFile(name)
	if tag {
		if size > v.tagCap {
			return fmt.Errorf("declares %d bytes, more than a tag file of a bag this size can hold (%d): not read", size, v.tagCap)
		}
		keep.Grow(int(size))
		w = io.MultiWriter(sum, &keep)
	}
	n, err := io.Copy(w, io.LimitReader(r, size+1)) // archive/zip also checks the CRC-32 at EOF
	switch {
	case err != nil:
		return err
	case n > size:
		return fmt.Errorf("holds more than the %d bytes it declares", size)
	case n < size:
		return fmt.Errorf("holds %d bytes, not the %d it declares", n, size)
	}
	v.got[name] = FileRecord{Path: name, Size: n, SHA256: hex.EncodeToString(sum.Sum(nil)), Part: part}
	if tag {
		v.tags[name] = keep.Bytes()
	}
	return nil
}

func isTagFile(name string) bool {
	switch name {
	case bagitTxt, bagInfoTxt, manifestTxt, tagManifestTxt:
		return true
	}
	return false
}

// compare checks what was read against manifest.json and the bag's own
// manifests.
func (v *bagCheck) compare(m *Manifest) {
	for _, p := range sortedKeys(v.want) {
		w, g := v.want[p], v.got[p]
		switch {
		case g.Path == "":
			v.problem("%s: listed in manifest.json, missing from the parts", showName(p))
		case g.Size != w.Size || g.SHA256 != w.SHA256 || g.Part != w.Part:
			v.problem("%s: size %d sha256 %s in part %d, manifest.json says size %d sha256 %s in part %d",
				showName(p), g.Size, g.SHA256, g.Part, w.Size, w.SHA256, w.Part)
		}
	}
	for _, p := range sortedKeys(v.got) {
		if _, ok := v.want[p]; !ok {
			v.problem("%s: in the parts but not in manifest.json", showName(p))
		}
	}
	v.checkBag()
}

func (v *bagCheck) checkBag() {
	if string(v.tags[bagitTxt]) != bagitDeclaration {
		v.problem("%s: missing or not a BagIt 1.0 declaration", bagitTxt)
	}
	var payload []FileRecord
	for _, p := range sortedKeys(v.got) {
		if strings.HasPrefix(p, "data/") {
			payload = append(payload, v.got[p])
		}
	}
	if oxum := payloadOxum(payload); !strings.Contains(string(v.tags[bagInfoTxt]), "Payload-Oxum: "+oxum+"\n") {
		v.problem("%s: Payload-Oxum does not match the payload (%s)", bagInfoTxt, oxum)
	}
	v.checkManifest(manifestTxt, func(p string) bool { return strings.HasPrefix(p, "data/") })
	v.checkManifest(tagManifestTxt, func(p string) bool { return !strings.HasPrefix(p, "data/") && p != tagManifestTxt })
}

// checkManifest compares a BagIt checksum file with the hashes read. Every
// line must name a file that covered selects, and every such file must be
// listed: RFC 8493 3 lets a tag manifest omit tag files, but our bags list
// them all, so an unlisted file (an index2.html, a .bashrc) was added.
func (v *bagCheck) checkManifest(name string, covered func(string) bool) {
	body, ok := v.tags[name]
	if !ok {
		v.problem("%s: missing", name)
		return
	}
	sums, err := parseChecksumFile(body)
	if err != nil {
		v.problem("%s: %v", name, err)
		return
	}
	for _, p := range sortedKeys(sums) {
		g, ok := v.got[p]
		if !ok || !covered(p) {
			v.problem("%s lists %s, which the bag does not hold", name, showName(p))
		} else if g.SHA256 != sums[p] {
			v.problem("%s: has sha256 %s, %s says %s", showName(p), g.SHA256, name, sums[p])
		}
	}
	for _, p := range sortedKeys(v.got) {
		if _, listed := sums[p]; covered(p) && !listed {
			v.problem("%s: not listed in %s: not part of the export", showName(p), name)
		}
	}
}

// showName prints a path from a bag as is when every character shows as
// itself, and Go-quoted otherwise, so a name cannot move the terminal's
// cursor or reverse the text around it (U+202E) in a problem line.
func showName(p string) string {
	if q := strconv.Quote(p); q[1:len(q)-1] != p {
		return q
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
