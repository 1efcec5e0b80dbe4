package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// A tool is one way of copying the source folder into a prefix of the
// bucket. Every tool gets its usual flags only: the benchmark measures
// what ops would get from it, not what it could be tuned to.
type tool struct {
	ID   string // as in --tools
	Name string // as printed
	Ours bool
	// jobs returns the processes of one run into prefix.
	jobs func(e *env, src, prefix string) []job
}

// env is what every tool of one workload shares.
type env struct {
	cfg    *config
	gw     *gateway
	bucket string
	work   string // scratch folder for this workload
	name   string // the workload's
}

func (e *env) baseEnv() []string {
	return append(filterEnv(os.Environ(), "AWS_", "RCLONE_", "PERISCOPE_SUNSET_"), e.gw.Env(e.work)...)
}

// ours is `periscope-sunset export` into dest, with workers workers (0:
// --workers if given, else the binary's default) and the extra flags.
func (e *env) ours(src, dest string, workers int, extra ...string) job {
	args := []string{"export", "--source", src, "--dest", dest, "--progress", "none"}
	if strings.HasPrefix(dest, "s3://") {
		args = append(args, "--s3-endpoint", e.gw.Endpoint, "--s3-path-style")
	}
	if workers == 0 {
		workers = e.cfg.workers
	}
	if workers > 0 {
		args = append(args, "--workers", strconv.Itoa(workers))
	}
	return job{path: e.cfg.bin, args: append(args, extra...), env: e.baseEnv()}
}

func (e *env) profileArgs(name string) []string {
	if e.cfg.profileDir == "" {
		return nil
	}
	return []string{"--cpuprofile", filepath.Join(e.cfg.profileDir, name+".cpu.pprof"),
		"--memprofile", filepath.Join(e.cfg.profileDir, name+".mem.pprof")}
}

// rclone is `rclone copy` with its S3 remote configured from the
// environment (an on-the-fly ":s3:" remote), so no config file is read.
//
// One flag is not rclone's default: --expect-continue-timeout 0. rclone's
// SDK (aws-sdk-go v1) sends "Expect: 100-Continue" on every PUT over 2 MB,
// and versitygw answers only the lower-case "100-continue" (what our SDK
// and the AWS CLI send), so rclone would wait out its 1 s timeout before
// every such PUT: 5 MiB files copy at ~5 MB/s per transfer. Amazon S3
// answers either spelling, so waiting there would not happen. With the
// timeout at 0 the body goes at once, as it would after a prompt answer.
// The optional tool rclone-stock leaves it at 1 s, to show the effect.
func (e *env) rclone(src, prefix string, stock bool, extra ...string) job {
	env := append(e.baseEnv(),
		"RCLONE_CONFIG="+filepath.Join(e.work, "no-rclone.conf"),
		"RCLONE_S3_PROVIDER=Other",
		"RCLONE_S3_ENDPOINT="+e.gw.Endpoint,
		"RCLONE_S3_ACCESS_KEY_ID="+e.gw.AccessKey,
		"RCLONE_S3_SECRET_ACCESS_KEY="+e.gw.SecretKey,
		"RCLONE_S3_REGION="+e.gw.Region,
		"RCLONE_S3_FORCE_PATH_STYLE=true",
	)
	args := []string{"copy", src, ":s3:" + e.bucket + "/" + prefix}
	if !stock {
		args = append(args, "--expect-continue-timeout", "0")
	}
	args = append(args, extra...)
	return job{path: e.cfg.rcloneBin, args: args, env: env}
}

// aws is `aws s3 cp --recursive`, quiet like the others (--progress none,
// rclone's default): a script would not print a line per file either.
func (e *env) aws(src, prefix string) job {
	return job{path: e.cfg.awsBin, env: e.baseEnv(), args: []string{
		"s3", "cp", "--recursive", src, "s3://" + e.bucket + "/" + prefix,
		"--endpoint-url", e.gw.Endpoint, "--only-show-errors",
	}}
}

// peerTools are the tools the throughput workloads compare.
func peerTools(cfg *config) []tool {
	wide := strconv.Itoa(cfg.effectiveWorkers())
	return []tool{
		{ID: "ours", Name: "periscope-sunset", Ours: true, jobs: func(e *env, src, prefix string) []job {
			return []job{e.ours(src, "s3://"+e.bucket+"/"+prefix, 0, e.profileArgs(e.name+"-"+prefix)...)}
		}},
		{ID: "rclone", Name: "rclone", jobs: func(e *env, src, prefix string) []job {
			return []job{e.rclone(src, prefix, false)}
		}},
		{ID: "rclone-wide", Name: "rclone --transfers " + wide, jobs: func(e *env, src, prefix string) []job {
			return []job{e.rclone(src, prefix, false, "--transfers", wide)}
		}},
		{ID: "rclone-stock", Name: "rclone (1 s expect-continue wait)", jobs: func(e *env, src, prefix string) []job {
			return []job{e.rclone(src, prefix, true)}
		}},
		{ID: "aws", Name: "aws s3 cp", jobs: func(e *env, src, prefix string) []job {
			return []job{e.aws(src, prefix)}
		}},
	}
}

// findAWS looks for the AWS CLI v2: the first `aws` on PATH that says so,
// then Debian's /usr/bin/aws (a v1 from pip may come first on PATH).
func findAWS(ctx context.Context) (string, error) {
	var cands []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		cands = append(cands, filepath.Join(dir, "aws"))
	}
	cands = append(cands, "/usr/bin/aws")
	var seen []string
	for _, c := range cands {
		if _, err := os.Stat(c); err != nil {
			continue
		}
		out, err := exec.CommandContext(ctx, c, "--version").CombinedOutput()
		if err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
			return c, nil
		}
		seen = append(seen, fmt.Sprintf("%s (%s)", c, strings.TrimSpace(firstLine(string(out)))))
	}
	return "", fmt.Errorf("no AWS CLI v2 found (saw %v): install Debian's awscli package", seen)
}

func findRclone() (string, error) {
	p, err := exec.LookPath("rclone")
	if err != nil {
		return "", errors.New("rclone not found: install Debian's rclone package")
	}
	return p, nil
}

// findVersitygw looks where the tests look: $PERISCOPE_SUNSET_VERSITYGW,
// <module root>/bin/versitygw (scripts/install-versitygw), then PATH.
func findVersitygw(root string) (string, error) {
	if p := os.Getenv("PERISCOPE_SUNSET_VERSITYGW"); p != "" {
		return p, nil
	}
	if p := filepath.Join(root, "bin", "versitygw"); fileExists(p) {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", errors.New("versitygw not found: run scripts/install-versitygw")
}

// buildOurs builds the binary being measured, as a release would be.
func buildOurs(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, "./cmd/periscope-sunset")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/periscope-sunset: %w", err)
	}
	return nil
}

func toolVersion(ctx context.Context, path string, args ...string) string {
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(firstLine(string(out)))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run peerbench inside the periscope-sunset module")
		}
		dir = parent
	}
}

// goModVersion is the main module and version Go recorded in a binary
// (`go install` builds of versitygw print "git" for --version).
func goModVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" {
			return f[1] + " " + f[2]
		}
	}
	return "?"
}

// filterEnv drops variables with any of the prefixes, so a developer's
// AWS or rclone settings cannot change what is measured.
func filterEnv(env []string, prefixes ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
