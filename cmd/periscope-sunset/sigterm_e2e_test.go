package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// drainForTests is the --drain-timeout the SIGTERM tests give; stopCap is
// how long after SIGTERM they wait before calling the process hung. It is
// generous on purpose: the assertion is "it exited", not how fast.
const (
	drainForTests = 2 * time.Second
	stopCap       = drainForTests + 15*time.Second
)

// started is the built binary running in the background.
type started struct {
	cmd  *exec.Cmd
	errb bytes.Buffer
	done chan struct{}
}

func startBinary(t *testing.T, env []string, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	s.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	s.cmd.Stderr = &s.errb
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// terminate sends SIGTERM and waits, at most stopCap, for the exit code.
func (s *started) terminate(t *testing.T) int {
	t.Helper()
	select {
	case <-s.done:
		t.Fatalf("exited (code %d) before SIGTERM; the test did not test a stuck read\n%s", s.cmd.ProcessState.ExitCode(), s.errb.String())
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(stopCap):
		s.cmd.Process.Kill()
		<-s.done
		t.Fatalf("still running %v after SIGTERM with --drain-timeout %v; killed\nstderr:\n%s", stopCap, drainForTests, s.errb.String())
		return -1
	}
}

// blackhole is a loopback TCP server that accepts connections and never
// answers: an S3 endpoint whose every request hangs.
func blackhole(t *testing.T) (endpoint string, accepted <-chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			once.Do(func() { close(ch) })
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String(), ch
}

// blackholeEnv gives the AWS chain static credentials, so only the
// endpoint's silence can hold a command.
var blackholeEnv = []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
	"AWS_EC2_METADATA_DISABLED=true"}

// stallProxy forwards to a real S3 server, except GETs of keys containing
// match: those get their headers and a first chunk, then nothing more,
// until the client gives up: a body that stalls midway.
func stallProxy(t *testing.T, upstream, match string) (endpoint string, stalled <-chan struct{}) {
	rp := s3test.ReverseProxy(t, upstream)
	ch := make(chan struct{})
	var once sync.Once
	quit := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, match) {
			rp.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Length", "10000000")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, 4096))
		w.(http.Flusher).Flush()
		once.Do(func() { close(ch) })
		select {
		case <-r.Context().Done():
		case <-quit:
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { close(quit); srv.Close() })
	return "http://" + ln.Addr().String(), ch
}

// waitFor waits, bounded, for the process to reach the stuck read.
func (s *started) waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-s.done:
		t.Fatalf("exited (code %d) before %s\n%s", s.cmd.ProcessState.ExitCode(), what, s.errb.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("no %s within 60s\n%s", what, s.errb.String())
	}
}

// Every long-running command stops within --drain-timeout plus a few
// seconds of SIGTERM, exit 130, whatever read it is stuck in.
func TestSIGTERMStopsStuckCommands(t *testing.T) {
	drain := drainForTests.String()
	t.Run("export/stalled-s3-body", func(t *testing.T) {
		srv := s3test.Start(t)
		bucket := srv.NewBucket(t)
		generateS3(t, srv, bucket, "src", fixtures.Options{Users: 3, Broadcasts: 1, VideoBytes: 256 << 10, Seed: 3})
		endpoint, stalled := stallProxy(t, srv.Endpoint, "replay.mp4")
		p := startBinary(t, srv.Env(), "export", "--source", "s3://"+bucket+"/src", "--dest", t.TempDir(),
			"--s3-endpoint", endpoint, "--s3-path-style", "--progress", "none", "--drain-timeout", drain)
		p.waitFor(t, stalled, "stalled GET")
		if code := p.terminate(t); code != exitInterrupted {
			t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, p.errb.String())
		}
	})
	t.Run("export/unanswered-s3-dest", func(t *testing.T) {
		// The run report is written after the drain, with a fresh
		// context: a destination that never answers must not hold the
		// process past the limit either.
		endpoint, accepted := blackhole(t)
		p := startBinary(t, blackholeEnv, "export", "--source", samplePath(t), "--dest", "s3://b/x",
			"--s3-endpoint", endpoint, "--s3-path-style", "--progress", "none", "--drain-timeout", drain)
		p.waitFor(t, accepted, "connection to the S3 endpoint")
		if code := p.terminate(t); code != exitInterrupted {
			t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, p.errb.String())
		}
	})
	for _, tc := range []struct {
		name string
		args func(endpoint string) []string
	}{
		{"verify", func(e string) []string { return []string{"verify", "--dest", "s3://b/x", "--s3-endpoint", e} }},
		{"status", func(e string) []string { return []string{"status", "--dest", "s3://b/x", "--s3-endpoint", e} }},
		{"links", func(e string) []string {
			return []string{"links", "--dest", "s3://b/x", "--presign", "--s3-endpoint", e}
		}},
		{"plan", func(e string) []string { return []string{"plan", "--source", "s3://b/x", "--s3-endpoint", e} }},
		{"fixtures-generate", func(e string) []string {
			return []string{"fixtures", "generate", "--out", "s3://b/x", "--users", "1", "--s3-endpoint", e}
		}},
	} {
		t.Run(tc.name+"/unanswered-s3", func(t *testing.T) {
			endpoint, accepted := blackhole(t)
			args := append(tc.args(endpoint), "--s3-path-style", "--drain-timeout", drain)
			p := startBinary(t, blackholeEnv, args...)
			p.waitFor(t, accepted, "connection to the S3 endpoint")
			if code := p.terminate(t); code != exitInterrupted {
				t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, p.errb.String())
			}
		})
	}
	t.Run("verify-folder/huge-file", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "bagit.txt"), []byte("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "manifest-sha256.txt"), []byte(strings.Repeat("0", 64)+"  data/huge.mp4\n"), 0o644)
		os.Mkdir(filepath.Join(dir, "data"), 0o755)
		f, err := os.Create(filepath.Join(dir, "data", "huge.mp4"))
		if err != nil {
			t.Fatal(err)
		}
		// Sparse: a terabyte that takes no disk and far longer than the
		// test's patience to hash.
		if err := f.Truncate(1 << 40); err != nil {
			t.Fatal(err)
		}
		f.Close()
		// Flags before the folder: urfave/cli stops parsing flags at the first argument.
		p := startBinary(t, nil, "verify", "--drain-timeout", drain, dir)
		time.Sleep(time.Second) // let it start hashing; the assertion does not depend on it
		if code := p.terminate(t); code != exitInterrupted {
			t.Fatalf("exit %d, want %d\n%s", code, exitInterrupted, p.errb.String())
		}
	})
}

// A negative duration is refused, for every duration flag, before anything
// runs.
func TestNegativeDurationsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"export", "--source", "x", "--dest", "y", "--drain-timeout", "-1s"},
		{"verify", "--dest", "y", "--drain-timeout", "-5m"},
		{"status", "--dest", "y", "--drain-timeout", "-1ns"},
		{"plan", "--source", "x", "--deadline", "-24h"},
		{"serve", "--dest", "y", "--secret-file", "s", "--shutdown-timeout", "-1s"},
		{"serve", "--dest", "y", "--secret-file", "s", "--presign-ttl", "-1m"},
		{"signups", "gate", "--upstream", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--refresh", "-30s"},
	} {
		r := run(t, nil, args...).want(t, exitFailed)
		if !strings.Contains(r.stderr, "must not be negative") {
			t.Errorf("%v: stderr does not say the duration is negative:\n%s", args, r.stderr)
		}
	}
	// A zero drain would be read as "the default" (90s) by the library.
	for _, args := range [][]string{
		{"export", "--source", "x", "--dest", "y", "--drain-timeout", "0s"},
		{"serve", "--dest", "y", "--secret-file", "s", "--shutdown-timeout", "0"},
	} {
		r := run(t, nil, args...).want(t, exitFailed)
		if !strings.Contains(r.stderr, "want a positive duration") {
			t.Errorf("%v: stderr does not refuse the zero drain:\n%s", args, r.stderr)
		}
	}
}
