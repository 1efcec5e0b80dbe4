package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startDashboard runs the dashboard command on a free loopback port.
func startDashboard(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"dashboard", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	errf, err := os.Create(filepath.Join(t.TempDir(), "dashboard.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: errf, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case line := <-lines:
		m := regexp.MustCompile(`dashboard on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
		if m == nil {
			out, _ := os.ReadFile(errf.Name())
			t.Fatalf("dashboard printed %q\nstderr:\n%s", line, out)
		}
		s.base = m[1]
	case <-time.After(30 * time.Second):
		t.Fatal("dashboard did not start within 30s")
	}
	return s
}

func get(t *testing.T, u, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDashboardCommand(t *testing.T) {
	dest, state := filepath.Join(t.TempDir(), "exports"), filepath.Join(t.TempDir(), "state")
	run(t, nil, "export", "--source", samplePath(t), "--dest", dest, "--progress", "none").want(t, 0)
	run(t, nil, "signups", "block", "--state", state, "--reason", "closing").want(t, 0)

	// Beyond loopback without credentials: refused before listening.
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		r := run(t, nil, "dashboard", "--dest", dest, "--state", state, "--listen", addr).want(t, 1)
		if !strings.Contains(r.stderr, "--auth-file") {
			t.Errorf("--listen %s: %s", addr, r.stderr)
		}
	}
	authFile := filepath.Join(t.TempDir(), "auth")
	token := "dashboard-token-0123456789"
	os.WriteFile(authFile, []byte(token+"\n"), 0o600)
	weak := filepath.Join(t.TempDir(), "weak")
	os.WriteFile(weak, []byte("abc\n"), 0o600)
	if r := run(t, nil, "dashboard", "--dest", dest, "--auth-file", weak).want(t, 1); strings.Contains(r.stderr, "abc") {
		t.Errorf("a refused auth file is echoed: %s", r.stderr)
	}

	d := startDashboard(t, "--dest", dest, "--state", state, "--auth-file", authFile, "--interval", "5s")
	for _, auth := range []string{"", "Bearer wrong-token-0123456789", "Basic " + token} {
		if code, _ := get(t, d.base+"/", auth); code != http.StatusUnauthorized {
			t.Errorf("GET / with %q: %d, want 401", auth, code)
		}
	}
	// The first read runs in the background: wait for it, bounded.
	var page string
	for i := 0; i < 100 && !strings.Contains(page, `id="done"`); i++ {
		var code int
		if code, page = get(t, d.base+"/", "Bearer "+token); code != http.StatusOK {
			t.Fatalf("GET / with the token: %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !regexp.MustCompile(`id="done">10<`).MatchString(page) || !strings.Contains(page, "Blocked") {
		t.Errorf("page without the 10 exports or the block:\n%s", page)
	}
	code, metrics := get(t, d.base+"/metrics", "Bearer "+token)
	if code != 200 || !strings.Contains(metrics, `periscope_sunset_fleet_users{state="done"} 10`) ||
		!strings.Contains(metrics, "periscope_sunset_fleet_signups_blocked 1") {
		t.Errorf("/metrics: %d\n%s", code, metrics)
	}
	if code := d.stop(t); code != 0 {
		t.Errorf("SIGTERM: exit %d, want 0", code)
	}
}

// TestMetricsListenOnServe scrapes the portal's metrics while it serves.
func TestMetricsListenOnServe(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "exports")
	run(t, nil, "export", "--source", samplePath(t), "--dest", dest, "--progress", "none",
		"--metrics-listen", "127.0.0.1:0").want(t, 0)
	secretFile, _ := writeSecret(t)
	srv := startServe(t, nil, "--dest", dest, "--secret-file", secretFile, "--state", t.TempDir(),
		"--metrics-listen", "127.0.0.1:0")
	errText, _ := os.ReadFile(srv.stderr.Name())
	m := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+)/metrics`).FindStringSubmatch(string(errText))
	if m == nil {
		t.Fatalf("serve did not say where its metrics are:\n%s", errText)
	}
	get(t, srv.base+"/healthz", "")
	get(t, srv.base+"/u/nobody?token=x", "")
	_, body := get(t, m[1]+"/metrics", "")
	if !strings.Contains(body, `periscope_sunset_portal_responses_total{status="200"} 1`) ||
		!regexp.MustCompile(`periscope_sunset_portal_responses_total\{status="4\d\d"\} 1`).MatchString(body) {
		t.Errorf("portal responses not counted:\n%s", body)
	}
	if code := srv.stop(t); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}
