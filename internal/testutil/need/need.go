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
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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

// Binary finds a program the project's own scripts build into bin/
// (versitygw, mailpit): the path in the environment variable env, else
// <module root>/bin/name, else name on $PATH; or stops the test as Missing,
// naming the script that installs it.
func Binary(t testing.TB, name, env, script string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v; run %s", env, p, err, script)
		}
		return p
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Missing(t, name+" not found: run "+script+" (installs bin/"+name+"), or set "+env)
	return ""
}

// moduleRoot is the folder holding go.mod, above the test's working folder.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working folder")
		}
		dir = parent
	}
}
