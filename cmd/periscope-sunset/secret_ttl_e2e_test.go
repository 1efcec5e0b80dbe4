package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Link TTLs have a ceiling of a year, and link-signing secrets must carry
// real entropy; a secret file others can read draws a warning.
func TestLinkTTLAndSecretChecks(t *testing.T) {
	dest := t.TempDir()
	run(t, nil, "export", "--source", samplePath(t), "--dest", dest, "--progress", "none", "--users", usersFile(t, "frank")).want(t, 0)
	secretFile, _ := writeSecret(t)
	weak := func(content string) string {
		f := filepath.Join(t.TempDir(), "weak")
		os.WriteFile(f, []byte(content), 0o600)
		return f
	}
	links := []string{"links", "--dest", dest, "--base-url", "https://x"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"ttl over a year in days", append(links, "--secret-file", secretFile, "--ttl", "366d"), "at most a year"},
		{"ttl a year and an hour", append(links, "--secret-file", secretFile, "--ttl", "365d1h"), "at most a year"},
		{"ttl 292 years in hours", append(links, "--secret-file", secretFile, "--ttl", "2562047h"), "at most a year"},
		{"negative ttl", append(links, "--secret-file", secretFile, "--ttl", "-1h"), "--ttl"},
		{"links 32 spaces", append(links, "--secret-file", weak(strings.Repeat(" ", 32))), "too predictable"},
		{"links 32 a's", append(links, "--secret-file", weak(strings.Repeat("a", 32)+"\n")), "too predictable"},
		{"links repeated pattern", append(links, "--secret-file", weak(strings.Repeat("s3cr3t!!", 8))), "too predictable"},
		{"serve 32 a's", []string{"serve", "--dest", dest, "--listen", "127.0.0.1:0", "--secret-file", weak(strings.Repeat("a", 32))}, "too predictable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, nil, c.args...).want(t, exitFailed)
			if !strings.Contains(r.stderr, c.want) {
				t.Fatalf("stderr should say %q:\n%s", c.want, r.stderr)
			}
			if strings.Contains(r.stderr, "too predictable") && !strings.Contains(r.stderr, "/dev/urandom") {
				t.Fatalf("stderr should say how to make a good secret:\n%s", r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, "s3cr3t") || strings.Contains(r.stderr, strings.Repeat("a", 32)) {
				t.Fatalf("output shows the secret:\n%s", r.stderr)
			}
		})
	}
	t.Run("a year is allowed", func(t *testing.T) {
		run(t, nil, append(links, "--secret-file", secretFile, "--ttl", "365d")...).want(t, 0)
	})
	t.Run("secret readable by others warns", func(t *testing.T) {
		os.Chmod(secretFile, 0o644)
		r := run(t, nil, append(links, "--secret-file", secretFile)...).want(t, 0)
		if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "chmod 600") {
			t.Fatalf("no warning for a 0644 secret file:\n%s", r.stderr)
		}
		os.Chmod(secretFile, 0o600)
		r = run(t, nil, append(links, "--secret-file", secretFile)...).want(t, 0)
		if strings.Contains(r.stderr, "warning") {
			t.Fatalf("warning for a 0600 secret file:\n%s", r.stderr)
		}
	})
}
