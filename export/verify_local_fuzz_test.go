package export

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// FuzzVerifyZip feeds verify FOLDER one part of arbitrary bytes. It must
// not panic, and must not allocate more than a bound that grows with the
// input, never with what the input inflates to: the tag files' cap
// (bagCheck.expect) and the read limits are what keep it there. The seeds
// (testdata/fuzz/FuzzVerifyZip, made by testdata/fuzzseeds.py with
// Python's zipfile) hold a valid bag and hostile ones, bombs included.
func FuzzVerifyZip(f *testing.F) {
	f.Fuzz(func(t *testing.T, part []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "periscope-fuzz.zip"), part, 0o644); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		VerifyDownload(dir)
		runtime.ReadMemStats(&after)
		if alloc, limit := after.TotalAlloc-before.TotalAlloc, verifyAllocBound(len(part)); alloc > limit {
			t.Fatalf("verify allocated %d KiB for a %d-byte part, want at most %d KiB", alloc>>10, len(part), limit>>10)
		}
	})
}

// verifyAllocBound is what verifying an n-byte part may allocate in all:
// a fixed allowance (buffers, a decompressor) plus a multiple of the part
// for its listing and the tag bytes the cap lets through. A bomb's
// inflated bytes would be a thousand times the part.
func verifyAllocBound(n int) uint64 { return 8<<20 + 64*uint64(n) }

// TestVerifyLocalFuzzSeeds keeps the seeds meaningful: the valid one is
// an intact bag to verify FOLDER, every other one is not.
func TestVerifyLocalFuzzSeeds(t *testing.T) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzVerifyZip", "*"))
	if len(seeds) < 2 {
		t.Fatalf("seeds missing: %q", seeds)
	}
	for _, seed := range seeds {
		raw, err := os.ReadFile(seed)
		lit, ok := strings.CutPrefix(string(raw), "go test fuzz v1\n[]byte(")
		part, qerr := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(lit), ")"))
		if err != nil || !ok || qerr != nil {
			t.Fatalf("%s: not a corpus file: %v %v", seed, err, qerr)
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "periscope-fuzz.zip"), []byte(part), 0o644)
		got := verifyProblems(t, dir)
		if (filepath.Base(seed) == "valid") != (got == "") {
			t.Errorf("%s: problems %q", filepath.Base(seed), got)
		}
	}
}
