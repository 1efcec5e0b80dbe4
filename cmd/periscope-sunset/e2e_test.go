package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/bagcheck"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// binary is the periscope-sunset built once for all end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "periscope-sunset-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "periscope-sunset")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the built binary with env added to a clean environment.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return r
}

func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

func samplePath(t *testing.T) string {
	p, err := fixtures.SamplePath()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkExports checks what a user would: every part passes `unzip -t`, all
// parts extract into one valid BagIt bag whose payload equals the source,
// and index.html names every broadcast.
func checkExports(t *testing.T, dst blob.Store, src string) {
	ctx := context.Background()
	users, err := export.ListExported(ctx, dst)
	if err != nil || len(users) == 0 {
		t.Fatalf("no exports in %s: %v", dst, err)
	}
	for _, uid := range users {
		m, err := export.ReadManifest(ctx, dst, uid)
		if err != nil {
			t.Fatal(err)
		}
		bag := t.TempDir()
		for _, p := range m.Parts {
			local := download(t, dst, p.Key)
			if out, err := exec.Command("unzip", "-tq", local).CombinedOutput(); err != nil {
				t.Fatalf("unzip -t %s: %v\n%s", p.Key, err, out)
			}
			if out, err := exec.Command("unzip", "-q", "-o", local, "-d", bag).CombinedOutput(); err != nil {
				t.Fatalf("unzip %s: %v\n%s", p.Key, err, out)
			}
		}
		bagcheck.Validate(t, bag)
		checkSameBytes(t, filepath.Join(src, "broadcasts", uid), filepath.Join(bag, "data", "broadcasts"))
		page, _ := os.ReadFile(filepath.Join(bag, "index.html"))
		dirs, _ := filepath.Glob(filepath.Join(src, "broadcasts", uid, "*"))
		for _, d := range dirs {
			if !bytes.Contains(page, []byte(`id="b-`+filepath.Base(d)+`"`)) {
				t.Errorf("%s: index.html does not list broadcast %s", uid, filepath.Base(d))
			}
		}
	}
}

func download(t *testing.T, s blob.Store, key string) string {
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	name := filepath.Join(t.TempDir(), filepath.Base(key))
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return name
}

// checkSameBytes asserts every file under want exists under got with the
// same bytes.
func checkSameBytes(t *testing.T, want, got string) {
	filepath.WalkDir(want, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: exported bytes differ from the source (%v)", rel, err)
		}
		return nil
	})
}

func TestExportLocal(t *testing.T) {
	src, dest := samplePath(t), filepath.Join(t.TempDir(), "exports")
	r := run(t, nil, "export", "--source", src, "--dest", dest, "--progress", "log").want(t, 0)
	if !strings.Contains(r.stdout, "exported 10,") || !strings.Contains(r.stderr, "user exported") {
		t.Fatalf("summary or log lines missing:\n%s\n%s", r.stdout, r.stderr)
	}
	dst, _ := blob.NewFile(dest)
	checkExports(t, dst, src)
	run(t, nil, "verify", "--dest", dest).want(t, 0)
	r = run(t, nil, "export", "--source", "file://"+src, "--dest", dest).want(t, 0)
	if !strings.Contains(r.stdout, "exported 0, skipped 10") {
		t.Fatalf("rerun did not skip finished users:\n%s", r.stdout)
	}
	flipByte(t, filepath.Join(dest, "alice", "periscope-alice.zip"))
	r = run(t, nil, "verify", "--dest", dest).want(t, 3)
	if !strings.Contains(r.stdout, "FAIL  alice: part alice/periscope-alice.zip") {
		t.Fatalf("verify did not name the broken part:\n%s", r.stdout)
	}
}

func flipByte(t *testing.T, name string) {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x80
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExportS3(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	src := samplePath(t)
	dest := "s3://" + bucket + "/exports/2021"
	env := srv.Env()
	run(t, env, "export", "--source", src, "--dest", dest, "--s3-path-style", "--progress", "none").want(t, 0)
	dst := srv.Store(t, bucket, "exports/2021")
	checkExports(t, dst, src)
	run(t, env, "verify", "--dest", dest, "--s3-path-style").want(t, 0)

	// The source can be S3 too: copy the sample up and export it again.
	up := srv.Store(t, bucket, "source")
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(src, p)
			f, _ := os.Open(p)
			defer f.Close()
			if _, err := up.Put(context.Background(), filepath.ToSlash(rel), f, blob.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		return err
	})
	dest2 := "s3://" + bucket + "/from-s3"
	run(t, env, "export", "--source", "s3://"+bucket+"/source", "--dest", dest2, "--s3-path-style",
		"--max-part-size", "1MiB").want(t, 0)
	run(t, env, "verify", "--dest", dest2, "--s3-path-style").want(t, 0)

	// One flipped byte in one part is found and named.
	local := download(t, dst, "frank/periscope-frank.zip")
	flipByte(t, local)
	f, _ := os.Open(local)
	defer f.Close()
	if _, err := dst.Put(context.Background(), "frank/periscope-frank.zip", f, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	r := run(t, env, "verify", "--dest", dest, "--s3-path-style", "--user", "frank", "--user", "alice").want(t, 3)
	if !strings.Contains(r.stdout, "FAIL  frank") || !strings.Contains(r.stdout, "ok    alice") {
		t.Fatalf("verify output:\n%s", r.stdout)
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	src := t.TempDir()
	os.CopyFS(src, os.DirFS(samplePath(t)))
	f, _ := os.OpenFile(filepath.Join(src, "users.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{\"id\":\"bad id\"}\n")
	f.Close()
	dest := t.TempDir()
	r := run(t, nil, "export", "--source", src, "--dest", dest, "--progress", "none").want(t, 3)
	if !strings.Contains(r.stderr, `invalid user id "bad id"`) || !strings.Contains(r.stdout, "exported 10") {
		t.Fatalf("partial failure not reported:\n%s\n%s", r.stdout, r.stderr)
	}
	r = run(t, nil, "export", "--source", src, "--dest", dest, "--workers", "0").want(t, 1)
	if !strings.Contains(r.stderr, "--workers") || !strings.Contains(r.stderr, "--help") {
		t.Fatalf("bad flag error should name the flag and point at --help:\n%s", r.stderr)
	}
	r = run(t, nil, "export", "--source", t.TempDir(), "--dest", dest).want(t, 1)
	if !strings.Contains(r.stderr, "users.jsonl") {
		t.Fatalf("missing users.jsonl not named:\n%s", r.stderr)
	}
	r = run(t, nil, "export", "--source", "ftp://x/y", "--dest", dest).want(t, 1)
	if !strings.Contains(r.stderr, "--source") {
		t.Fatalf("bad URL not tied to its flag:\n%s", r.stderr)
	}
	r = run(t, []string{"PERISCOPE_SUNSET_SOURCE=" + samplePath(t), "PERISCOPE_SUNSET_DEST=" + t.TempDir(),
		"PERISCOPE_SUNSET_DRY_RUN=true"}, "export", "--progress", "none").want(t, 0)
	if !strings.Contains(r.stdout, "exported 10") {
		t.Fatalf("flags from the environment:\n%s", r.stdout)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"export", "--help"}, {"verify", "--help"}, {"fixtures", "generate", "--help"},
	} {
		r := run(t, nil, args...).want(t, 0)
		if !strings.Contains(r.stdout, "USAGE") {
			t.Errorf("%v: no usage:\n%s", args, r.stdout)
		}
		if len(args) > 1 && !strings.Contains(r.stdout, "$PERISCOPE_SUNSET_") {
			t.Errorf("%v: flags do not show their environment variables", args)
		}
	}
	if r := run(t, nil, "--version").want(t, 0); !strings.Contains(r.stdout, "periscope-sunset version") {
		t.Errorf("--version: %q", r.stdout)
	}
}

func TestFixturesGenerateThenExport(t *testing.T) {
	src, dest := t.TempDir(), t.TempDir()
	run(t, nil, "fixtures", "generate", "--out", src, "--users", "12", "--broadcasts", "2",
		"--video-bytes", "300KiB", "--seed", "7", "--hls-every", "3").want(t, 0)
	run(t, nil, "export", "--source", src, "--dest", dest, "--workers", "3", "--max-part-size", "1MiB").want(t, 0)
	run(t, nil, "verify", "--dest", dest).want(t, 0)
	dst, _ := blob.NewFile(dest)
	checkExports(t, dst, src)
}
