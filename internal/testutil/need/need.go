// Package need finds the outside programs a test runs (versitygw, Chromium,
// ffmpeg, unzip, ...) and decides what a missing one means.
//
// On a newcomer's machine a plain `go test ./...` skips such a test with a
// message naming the script that installs the program, so the fast tests
// run at once. scripts/test (and so CI) sets PERISCOPE_SUNSET_DISALLOW_SKIP,
// which turns every such skip into a failure: CI cannot pass on a test that
// did not run. This is restic's rtest.SkipDisallowed pattern.
package need

import (
	"os"
	"os/exec"
	"testing"
)

// EnvDisallowSkip names the environment variable that makes a missing
// program fail the test instead of skipping it.
const EnvDisallowSkip = "PERISCOPE_SUNSET_DISALLOW_SKIP"

// Missing stops the test because something it needs is not installed:
// a skip, or a failure when skips are disallowed. why says what is missing
// and how to install it.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(EnvDisallowSkip) != "" {
		t.Fatalf("%s (%s is set: a missing dependency fails the test)", why, EnvDisallowSkip)
	}
	t.Skipf("%s (skipped; scripts/test fails instead)", why)
}

// Program returns the path of the first of names found on $PATH, or stops
// the test as Missing, naming the install script.
func Program(t testing.TB, script string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, names[0]+" not found on PATH: run "+script)
	return ""
}
