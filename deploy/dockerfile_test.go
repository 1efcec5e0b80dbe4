package deploy_test

import (
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, ...
	Args string
	Line int
}

// stage is one FROM and the instructions under it.
type stage struct {
	From     instruction
	Platform string // --platform= value, unexpanded
	Image    string // with the global ARGs expanded
	Name     string
	Body     []instruction
}

type dockerfile struct {
	Args   map[string]string // global ARGs, before the first FROM
	Stages []stage
}

func parseDockerfile(t *testing.T, name string) *dockerfile {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var ins []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if rest, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(rest + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		ins = append(ins, instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start})
		cur.Reset()
	}
	d := &dockerfile{Args: map[string]string{}}
	for _, in := range ins {
		switch {
		case in.Cmd == "FROM":
			d.Stages = append(d.Stages, d.parseFrom(t, in))
		case len(d.Stages) == 0 && in.Cmd == "ARG":
			k, v, _ := strings.Cut(in.Args, "=")
			d.Args[k] = v
		case len(d.Stages) == 0:
			t.Fatalf("line %d: %s before the first FROM", in.Line, in.Cmd)
		default:
			s := &d.Stages[len(d.Stages)-1]
			s.Body = append(s.Body, in)
		}
	}
	return d
}

func (d *dockerfile) parseFrom(t *testing.T, in instruction) stage {
	s := stage{From: in}
	f := strings.Fields(in.Args)
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		if v, ok := strings.CutPrefix(f[0], "--platform="); ok {
			s.Platform = v
		}
		f = f[1:]
	}
	if len(f) == 0 {
		t.Fatalf("line %d: FROM without an image", in.Line)
	}
	s.Image = os.Expand(f[0], func(k string) string { return d.Args[k] })
	if len(f) == 3 && strings.EqualFold(f[1], "AS") {
		s.Name = f[2]
	}
	return s
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Body {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// buildRun is the build stage's RUN that runs go build.
func buildRun(t *testing.T, s stage) string {
	t.Helper()
	for _, in := range s.all("RUN") {
		if strings.Contains(in.Args, "go build") {
			return in.Args
		}
	}
	t.Fatalf("stage %s has no RUN with go build", s.Name)
	return ""
}

func TestDockerfile(t *testing.T) {
	d := parseDockerfile(t, "../Dockerfile")
	if len(d.Stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, runtime)", len(d.Stages))
	}
	build, runtime := d.Stages[0], d.Stages[1]

	// The build stage runs on the build machine and cross-compiles.
	if build.Platform != "$BUILDPLATFORM" {
		t.Errorf("build stage --platform=%q, want $BUILDPLATFORM (no emulation to build arm64)", build.Platform)
	}
	if build.Image != "golang:1.26" || build.Name == "" {
		t.Errorf("build stage FROM %s AS %q, want golang:1.26 with a name", build.Image, build.Name)
	}
	args := map[string]bool{}
	for _, in := range build.all("ARG") {
		k, _, _ := strings.Cut(in.Args, "=")
		args[k] = true
	}
	for _, a := range []string{"TARGETOS", "TARGETARCH", "VERSION"} {
		if !args[a] {
			t.Errorf("build stage does not declare ARG %s", a)
		}
	}
	run := buildRun(t, build)
	for _, s := range []string{"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "-trimpath",
		`-ldflags "-s -w -X main.version=${VERSION}"`, "./cmd/periscope-sunset"} {
		if !strings.Contains(run, s) {
			t.Errorf("the go build RUN lacks %q: %s", s, run)
		}
	}
	main, _ := os.ReadFile("../cmd/periscope-sunset/main.go")
	if !regexp.MustCompile(`(?m)^var version = `).Match(main) {
		t.Error("cmd/periscope-sunset/main.go has no package-level `var version` for -X main.version")
	}

	// The runtime: Debian slim, CA certificates and ffmpeg, non-root.
	if runtime.Image != "debian:bookworm-slim" {
		t.Errorf("runtime FROM %s, want debian:bookworm-slim", runtime.Image)
	}
	var installs string
	for _, in := range runtime.all("RUN") {
		if strings.Contains(in.Args, "apt-get install") {
			installs = in.Args
		}
	}
	for _, s := range []string{"--no-install-recommends", "ca-certificates", "ffmpeg", "rm -rf /var/lib/apt/lists"} {
		if !strings.Contains(installs, s) {
			t.Errorf("runtime apt-get install lacks %q: %q", s, installs)
		}
	}
	users := runtime.all("USER")
	if len(users) == 0 {
		t.Fatal("runtime stage has no USER: the container would run as root")
	}
	uid, _, _ := strings.Cut(users[len(users)-1].Args, ":")
	if !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(uid) {
		t.Errorf("USER %q: want a numeric non-zero uid, so runAsNonRoot can check it", uid)
	}
	if !strings.Contains(strings.Join(argsOf(runtime.all("RUN")), "\n"), "--uid "+uid) {
		t.Errorf("no useradd creates uid %s", uid)
	}
	copies := argsOf(runtime.all("COPY"))
	want := "--from=" + build.Name + " /out/periscope-sunset /usr/local/bin/periscope-sunset"
	if len(copies) != 1 || copies[0] != want {
		t.Errorf("runtime COPY %q, want only %q", copies, want)
	}
	eps := runtime.all("ENTRYPOINT")
	var ep []string
	if len(eps) != 1 || json.Unmarshal([]byte(eps[0].Args), &ep) != nil || len(ep) != 1 || ep[0] != "periscope-sunset" {
		t.Errorf(`ENTRYPOINT %v: want the exec form ["periscope-sunset"]`, argsOf(eps))
	}
}

func argsOf(ins []instruction) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Args)
	}
	return out
}

// TestDockerfileBuildsArm64 runs the Dockerfile's own go build command, as
// buildx would for linux/arm64, on a copy of the build context filtered by
// .dockerignore, and checks the result is a static arm64 executable. No
// Docker engine runs here; this proves the command, the build args and
// the ignore file fit together.
func TestDockerfileBuildsArm64(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the binary; skipped with -short")
	}
	d := parseDockerfile(t, "../Dockerfile")
	ignore := parseDockerignore(t, "../.dockerignore")
	for _, p := range []string{".git/HEAD", "bin/versitygw", "periscope-sunset", "deploy/doc.go", "export/export_test.go"} {
		if !ignore.excludes(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "cmd/periscope-sunset/main.go", "export/viewer.html",
		"fixtures/sample/broadcasts/alice/1MnGnPQdrZaKO/replay.mp4"} {
		if ignore.excludes(p) {
			t.Errorf(".dockerignore keeps %s, which the build needs, out of the context", p)
		}
	}
	ctx := t.TempDir()
	copyContext(t, "..", ctx, ignore)
	out := t.TempDir()
	script := strings.ReplaceAll(buildRun(t, d.Stages[0]), "/out/", out+"/")
	script = strings.TrimSpace(regexp.MustCompile(`--mount=\S+`).ReplaceAllString(script, ""))
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = ctx
	cmd.Env = append(os.Environ(), "TARGETOS=linux", "TARGETARCH=arm64", "VERSION=v0.0.0-test")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s\n%v\n%s", script, err, b)
	}
	f, err := elf.Open(filepath.Join(out, "periscope-sunset"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("built for %v, want EM_AARCH64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: not static (CGO_ENABLED=0 lost?)")
		}
	}
}

// dockerignore is a .dockerignore: patterns relative to the context root,
// where * and ? stay within one path element, ** spans any, a pattern that
// matches a folder excludes what is in it, and ! re-includes.
type dockerignore []struct {
	rx      *regexp.Regexp
	include bool
}

func parseDockerignore(t *testing.T, name string) dockerignore {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var d dockerignore
	for _, line := range strings.Split(string(raw), "\n") {
		p := strings.TrimSpace(line)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		include := strings.HasPrefix(p, "!")
		p = strings.Trim(strings.TrimPrefix(p, "!"), "/")
		var rx strings.Builder
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				rx.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				rx.WriteString(".*")
				i++
			case p[i] == '*':
				rx.WriteString("[^/]*")
			case p[i] == '?':
				rx.WriteString("[^/]")
			default:
				rx.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		d = append(d, struct {
			rx      *regexp.Regexp
			include bool
		}{regexp.MustCompile("^" + rx.String() + "$"), include})
	}
	return d
}

func (d dockerignore) excludes(path string) bool {
	excluded := false
	for _, p := range d {
		for prefix := path; ; {
			if p.rx.MatchString(prefix) {
				excluded = !p.include
				break
			}
			i := strings.LastIndex(prefix, "/")
			if i < 0 {
				break
			}
			prefix = prefix[:i]
		}
	}
	return excluded
}

// copyContext copies the files of src that the ignore file lets through.
func copyContext(t *testing.T, src, dst string, ignore dockerignore) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignore.excludes(rel) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if e.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !e.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
