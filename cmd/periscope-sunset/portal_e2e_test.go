package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// writeSecret writes a fresh secret the way the README says to make one
// (openssl rand -hex 32: 64 hex characters and a newline).
func writeSecret(t *testing.T) (file, secret string) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = hex.EncodeToString(b)
	file = filepath.Join(t.TempDir(), "portal-secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, secret
}

// server is `periscope-sunset serve` running as a subprocess.
type server struct {
	base   string // http://127.0.0.1:port
	cmd    *exec.Cmd
	stderr *os.File
	done   chan error
}

// startServe runs serve on a free loopback port (--listen 127.0.0.1:0)
// and reads the address it prints.
func startServe(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	errf, err := os.Create(filepath.Join(t.TempDir(), "serve.stderr"))
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
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			out, _ := os.ReadFile(errf.Name())
			t.Logf("serve stderr:\n%s", out)
		}
	})
	select {
	case line := <-lines:
		m := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
		if m == nil {
			out, _ := os.ReadFile(errf.Name())
			t.Fatalf("serve printed %q\nstderr:\n%s", line, out)
		}
		s.base = m[1]
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start within 30s")
	}
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
		return -1
	}
}

var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func fetch(t *testing.T, u string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type linkRow struct {
	UserID    string `json:"user_id"`
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
	Parts     int    `json:"parts"`
	Bytes     int64  `json:"bytes"`
}

func parseLinksCSV(t *testing.T, data string) []linkRow {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil || len(recs) < 1 || strings.Join(recs[0], ",") != "user_id,url,expires_at,parts,bytes" {
		t.Fatalf("links CSV: %v\n%s", err, data)
	}
	var rows []linkRow
	for _, r := range recs[1:] {
		var row linkRow
		row.UserID, row.URL, row.ExpiresAt = r[0], r[1], r[2]
		if _, err := fmt.Sscan(r[3]+" "+r[4], &row.Parts, &row.Bytes); err != nil {
			t.Fatalf("links CSV row %v: %v", r, err)
		}
		rows = append(rows, row)
	}
	return rows
}

func parseJSONL[T any](t *testing.T, data string) []T {
	t.Helper()
	var rows []T
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		var row T
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("JSONL line %q: %v", line, err)
		}
		rows = append(rows, row)
	}
	return rows
}

var hrefs = regexp.MustCompile(`<a class="part" href="([^"]+)"`)

// TestPortalEndToEnd is the user's path on a local destination: links
// for the mailer, the portal page, every part downloaded and checked
// against the manifest, each download audited without its token, and a
// clean stop on SIGTERM.
func TestPortalEndToEnd(t *testing.T) {
	dest, state := filepath.Join(t.TempDir(), "exports"), filepath.Join(t.TempDir(), "state")
	run(t, nil, "export", "--source", samplePath(t), "--dest", dest, "--progress", "none").want(t, 0)
	secretFile, secret := writeSecret(t)
	srv := startServe(t, nil, "--dest", dest, "--secret-file", secretFile, "--state", state, "--rate", "100/s", "--burst", "100")

	csvFile := filepath.Join(t.TempDir(), "links.csv")
	r := run(t, nil, "links", "--dest", dest, "--base-url", srv.base+"/", "--secret-file", secretFile, "--out", csvFile).want(t, 0)
	data, _ := os.ReadFile(csvFile)
	if fi, _ := os.Stat(csvFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("--out file mode %v, want 0600: the links are credentials", fi.Mode().Perm())
	}
	rows := parseLinksCSV(t, string(data))
	jsonl := parseJSONL[linkRow](t, run(t, nil, "links", "--dest", dest, "--base-url", srv.base, "--secret-file", secretFile,
		"--format", "jsonl", "--ttl", "2d").want(t, 0).stdout)
	if len(rows) != 10 || len(jsonl) != 10 || strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("%d CSV rows, %d JSONL rows (want 10 each)\n%s", len(rows), len(jsonl), r.stderr)
	}
	dst, _ := blob.NewFile(dest)
	downloads := 0
	var tokens []string
	for i, row := range rows {
		if row.UserID != jsonl[i].UserID || !strings.HasPrefix(row.URL, srv.base+"/u/"+row.UserID+"?token=") {
			t.Fatalf("row %+v / %+v", row, jsonl[i])
		}
		exp, err := time.Parse(time.RFC3339, row.ExpiresAt)
		if err != nil || time.Until(exp) < 29*24*time.Hour || time.Until(exp) > 30*24*time.Hour {
			t.Fatalf("expires_at %q: want 30 days from now", row.ExpiresAt)
		}
		m, err := export.ReadManifest(context.Background(), dst, row.UserID)
		if err != nil || row.Parts != len(m.Parts) || row.Bytes != m.Bytes {
			t.Fatalf("row %+v vs manifest: %v", row, err)
		}
		u, _ := url.Parse(row.URL)
		tokens = append(tokens, u.Query().Get("token"), mustQuery(t, jsonl[i].URL))
		saveTo := ""
		if row.UserID == "alice" {
			saveTo = t.TempDir()
		}
		downloads += downloadAll(t, row.URL, m, saveTo)
		downloads += downloadAll(t, jsonl[i].URL, m, "")
		if saveTo != "" {
			checkAsUser(t, row.URL, saveTo)
		}
	}
	status, _, body := fetch(t, rows[0].URL+"x")
	if status != http.StatusForbidden || !strings.Contains(string(body), "This link does not work") {
		t.Fatalf("tampered link: %d\n%s", status, body)
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0", code)
	}
	checkAudit(t, state, downloads, tokens)
}

func mustQuery(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// downloadAll opens a user's page as a browser would, follows every part
// link on it and checks each part against the manifest, saving the parts
// in saveTo unless it is "". It returns the number of parts downloaded.
func downloadAll(t *testing.T, link string, m *export.Manifest, saveTo string) int {
	t.Helper()
	status, hdr, body := fetch(t, link)
	if status != http.StatusOK || hdr.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("%s: status %d\n%s", link, status, body)
	}
	found := hrefs.FindAllStringSubmatch(string(body), -1)
	if len(found) != len(m.Parts) {
		t.Fatalf("%s: %d part links, manifest has %d parts", link, len(found), len(m.Parts))
	}
	base, _ := url.Parse(link)
	for i, f := range found {
		ref, _ := url.Parse(strings.ReplaceAll(f[1], "&amp;", "&"))
		part := base.ResolveReference(ref).String()
		status, hdr, data := fetch(t, part)
		want := m.Parts[i]
		if status != http.StatusOK || sha256Hex(data) != want.SHA256 ||
			hdr.Get("Content-Disposition") != `attachment; filename="`+path.Base(want.Key)+`"` {
			t.Fatalf("%s: status %d, sha256 %s, want %s (%s)", part, status, sha256Hex(data), want.SHA256, hdr.Get("Content-Disposition"))
		}
		if saveTo != "" {
			if err := os.WriteFile(filepath.Join(saveTo, path.Base(want.Key)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return len(found)
}

// checkAsUser follows the page's own instructions in a folder of
// downloaded parts: SHA256SUMS from the page checks with sha256sum -c, and
// periscope-sunset verify --dest passes.
func checkAsUser(t *testing.T, link, dir string) {
	t.Helper()
	u := mustURL(t, link)
	u.Path += "/SHA256SUMS"
	status, _, sums := fetch(t, u.String())
	if status != http.StatusOK {
		t.Fatalf("SHA256SUMS: status %d", status)
	}
	os.WriteFile(filepath.Join(dir, "SHA256SUMS"), sums, 0o644)
	cmd := exec.Command("sha256sum", "-c", "SHA256SUMS")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), ": OK") {
		t.Fatalf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
	}
	r := run(t, nil, "verify", "--dest", dir).want(t, 0)
	if !strings.Contains(r.stdout, "ok ") {
		t.Fatalf("verify --dest %s:\n%s", dir, r.stdout)
	}
}

// checkAudit reads the audit log serve wrote under state: one event per
// download, naming the user and part, holding no token.
func checkAudit(t *testing.T, state string, want int, tokens []string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state, "audit", "*.json"))
	if len(files) != want {
		t.Fatalf("%d audit events, want %d (one per download)", len(files), want)
	}
	perUser := map[string]int{}
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		for _, tok := range tokens {
			if strings.Contains(string(raw), tok) || strings.Contains(string(raw), "token") {
				t.Fatalf("%s holds a token:\n%s", f, raw)
			}
		}
		var e struct{ Action, Subject, Result, Detail, Actor string }
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		if e.Action != "portal.download" || !export.ValidID(e.Subject) || e.Result != "stream" ||
			!strings.Contains(e.Detail, "part 1 of 1: "+e.Subject+"/periscope-"+e.Subject+".zip") {
			t.Fatalf("audit event %s", raw)
		}
		perUser[e.Subject]++
	}
	if len(perUser) != 10 || perUser["alice"] != 2 {
		t.Fatalf("downloads per user %v, want 2 for each of 10 users", perUser)
	}
}

// TestPortalS3 runs the mailer's two kinds of links against versitygw:
// --presign URLs fetched directly, and portal links whose parts redirect
// to presigned URLs.
func TestPortalS3(t *testing.T) {
	s3srv := s3test.Start(t)
	bucket := s3srv.NewBucket(t)
	dest := "s3://" + bucket + "/exports"
	env := s3srv.Env()
	run(t, env, "export", "--source", samplePath(t), "--dest", dest, "--s3-path-style", "--progress", "none").want(t, 0)
	dst := s3srv.Store(t, bucket, "exports")

	type partRow struct {
		UserID string `json:"user_id"`
		Part   int    `json:"part"`
		File   string `json:"file"`
		URL    string `json:"url"`
		SHA256 string `json:"sha256"`
	}
	rows := parseJSONL[partRow](t, run(t, env, "links", "--dest", dest, "--s3-path-style", "--presign",
		"--format", "jsonl", "--user", "alice", "--user", "heidi").want(t, 0).stdout)
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	for _, row := range rows {
		m, err := export.ReadManifest(context.Background(), dst, row.UserID)
		if err != nil {
			t.Fatal(err)
		}
		status, _, data := fetch(t, row.URL)
		if status != http.StatusOK || sha256Hex(data) != m.Parts[0].SHA256 || row.SHA256 != m.Parts[0].SHA256 {
			t.Fatalf("%+v: status %d sha256 %s, manifest %s", row, status, sha256Hex(data), m.Parts[0].SHA256)
		}
		if q := mustURL(t, row.URL).Query().Get("X-Amz-Expires"); q != "604800" {
			t.Errorf("X-Amz-Expires %s, want 604800 (7 days, the --presign default)", q)
		}
	}
	r := run(t, env, "links", "--dest", dest, "--s3-path-style", "--presign", "--ttl", "8d").want(t, 1)
	if !strings.Contains(r.stderr, "at most 7 days") || r.stdout != "" {
		t.Fatalf("--presign --ttl 8d:\n%s%s", r.stdout, r.stderr)
	}

	secretFile, _ := writeSecret(t)
	srv := startServe(t, env, "--dest", dest, "--s3-path-style", "--secret-file", secretFile,
		"--state", filepath.Join(t.TempDir(), "state"), "--presign-ttl", "5m")
	links := parseLinksCSV(t, run(t, env, "links", "--dest", dest, "--s3-path-style", "--base-url", srv.base,
		"--secret-file", secretFile, "--user", "zoe-aero").want(t, 0).stdout)
	if len(links) != 1 {
		t.Fatalf("links %+v", links)
	}
	status, _, page := fetch(t, links[0].URL)
	found := hrefs.FindAllStringSubmatch(string(page), -1)
	if status != http.StatusOK || len(found) != 1 {
		t.Fatalf("page: status %d\n%s", status, page)
	}
	part := mustURL(t, links[0].URL).ResolveReference(mustURL(t, found[0][1])).String()
	status, hdr, _ := fetch(t, part)
	loc := mustURL(t, hdr.Get("Location"))
	if status != http.StatusFound || loc.Host != mustURL(t, s3srv.Endpoint).Host || loc.Query().Get("X-Amz-Expires") != "300" {
		t.Fatalf("part link: status %d, Location %s", status, loc)
	}
	m, _ := export.ReadManifest(context.Background(), dst, "zoe-aero")
	if status, _, data := fetch(t, loc.String()); status != http.StatusOK || sha256Hex(data) != m.Parts[0].SHA256 {
		t.Fatalf("presigned part: status %d sha256 %s, want %s", status, sha256Hex(data), m.Parts[0].SHA256)
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPortalCommandErrors: bad secrets and impossible requests fail with
// exit 1 and a message that names the problem, never the secret.
func TestPortalCommandErrors(t *testing.T) {
	dest := t.TempDir()
	run(t, nil, "export", "--source", samplePath(t), "--dest", dest, "--progress", "none", "--users", usersFile(t, "frank")).want(t, 0)
	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("tooshort-s3cr3t\n"), 0o600)
	secretFile, _ := writeSecret(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"links short secret", []string{"links", "--dest", dest, "--base-url", "https://x", "--secret-file", short}, "at least 32"},
		{"serve short secret", []string{"serve", "--dest", dest, "--listen", "127.0.0.1:0", "--secret-file", short}, "at least 32"},
		{"links missing secret file", []string{"links", "--dest", dest, "--base-url", "https://x", "--secret-file", short + ".nope"}, "--secret-file"},
		{"links without base URL", []string{"links", "--dest", dest, "--secret-file", secretFile}, "--base-url"},
		{"links bad base URL", []string{"links", "--dest", dest, "--secret-file", secretFile, "--base-url", "example.com"}, "base URL"},
		{"presign on a folder", []string{"links", "--dest", dest, "--presign"}, "--presign needs an s3://"},
		{"bad ttl", []string{"links", "--dest", dest, "--presign", "--ttl", "soon"}, "--ttl"},
		{"bad format", []string{"links", "--dest", dest, "--secret-file", secretFile, "--base-url", "https://x", "--format", "xml"}, "--format"},
		{"bad user", []string{"links", "--dest", dest, "--secret-file", secretFile, "--base-url", "https://x", "--user", "../x"}, "--user"},
		{"bad rate", []string{"serve", "--dest", dest, "--secret-file", secretFile, "--rate", "fast"}, "--rate"},
		{"presign ttl too long", []string{"serve", "--dest", dest, "--secret-file", secretFile, "--presign-ttl", "200h"}, "--presign-ttl"},
		{"bad proxy", []string{"serve", "--dest", dest, "--secret-file", secretFile, "--trust-proxy", "lb"}, "--trust-proxy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, nil, c.args...).want(t, 1)
			if !strings.Contains(r.stderr, c.want) || strings.Contains(r.stdout+r.stderr, "s3cr3t") {
				t.Fatalf("stderr should name %q and never the secret:\n%s", c.want, r.stderr)
			}
		})
	}
	r := run(t, nil, "links", "--dest", dest, "--secret-file", secretFile, "--base-url", "https://x", "--user", "frank", "--user", "bob_1").want(t, 0)
	if rows := parseLinksCSV(t, r.stdout); len(rows) != 1 || !strings.Contains(r.stderr, "skipped bob_1: no completed export") {
		t.Fatalf("a user without an export:\n%s\n%s", r.stdout, r.stderr)
	}
}

func usersFile(t *testing.T, ids ...string) string {
	f := filepath.Join(t.TempDir(), "users.txt")
	os.WriteFile(f, []byte(strings.Join(ids, "\n")+"\n"), 0o644)
	return f
}
