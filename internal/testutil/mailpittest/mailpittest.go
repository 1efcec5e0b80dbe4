// Package mailpittest runs a real SMTP server for tests: mailpit, one
// process per Start, with its SMTP and HTTP API on free loopback ports and
// its database in a temporary folder, and reads the messages it received
// back through its HTTP API (/api/v1/messages, /api/v1/message/{ID}).
package mailpittest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/syncbuf"
)

// EnvBinary names the environment variable that points at a mailpit
// binary, overriding <module root>/bin/mailpit and $PATH.
const EnvBinary = "PERISCOPE_SUNSET_MAILPIT"

const startTimeout = 20 * time.Second

// Server is a running mailpit.
type Server struct {
	SMTPAddr string // 127.0.0.1:port
	API      string // http://127.0.0.1:port
	client   *http.Client
}

// SMTPURL is the server's address as notify's --smtp takes it.
func (s *Server) SMTPURL() string { return "smtp://" + s.SMTPAddr }

// Start runs mailpit until the test ends. Extra flags (such as
// --smtp-allowed-recipients) are passed on. A missing binary fails the
// test (it never skips, so CI cannot pass without the mail tests).
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := findBinary(t)
	out := &syncbuf.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mailpit output:\n%s", out)
		}
	})
	var err error
	for range 3 { // another process may take a free port first
		var s *Server
		if s, err = launch(t, bin, out, extra); err == nil {
			return s
		}
	}
	t.Fatalf("start mailpit: %v", err)
	return nil
}

func launch(t testing.TB, bin string, out io.Writer, extra []string) (*Server, error) {
	smtpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--smtp", smtpAddr, "--listen", httpAddr,
		"--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--smtp-disable-rdns", "--disable-version-check", "--quiet"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() { cmd.Process.Kill(); <-exited }
	s := &Server{SMTPAddr: smtpAddr, API: "http://" + httpAddr, client: &http.Client{Timeout: 10 * time.Second}}
	if err := s.waitReady(exited); err != nil {
		stop()
		return nil, err
	}
	t.Cleanup(stop)
	return s, nil
}

func (s *Server) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("mailpit exited: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second)
		if err == nil {
			c.Close()
			if resp, err := s.client.Get(s.API + "/api/v1/info"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mailpit did not answer on %s and %s within %v", s.SMTPAddr, s.API, startTimeout)
}

// Address is one address of a message.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message as /api/v1/messages lists it.
type Summary struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Cc      []Address `json:"Cc"`
	Bcc     []Address `json:"Bcc"`
	Subject string    `json:"Subject"`
	Tags    []string  `json:"Tags"`
}

// Message is one message with its parts, from /api/v1/message/{ID}.
type Message struct {
	Summary
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

// Messages returns every message received, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	var page struct {
		Total    int       `json:"total"`
		Messages []Summary `json:"messages"`
	}
	s.getJSON(t, "/api/v1/messages?limit=1000", &page)
	if page.Total != len(page.Messages) {
		t.Fatalf("mailpit holds %d messages, listed %d", page.Total, len(page.Messages))
	}
	return page.Messages
}

// Message returns one message with its text and HTML parts.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	s.getJSON(t, "/api/v1/message/"+url.PathEscape(id), &m)
	return m
}

// Headers returns one message's raw headers.
func (s *Server) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	s.getJSON(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return h
}

// SetChaos makes the SMTP server answer a stage ("Sender", "Recipient" or
// "Authentication") with code, always; code 0 turns that stage back to
// normal. Mailpit must have been started with --enable-chaos.
func (s *Server) SetChaos(t testing.TB, stage string, code int) {
	t.Helper()
	prob := 100
	if code == 0 {
		prob = 0
	}
	body := fmt.Sprintf(`{%q: {"ErrorCode": %d, "Probability": %d}}`, stage, max(code, 451), prob)
	req, _ := http.NewRequest(http.MethodPut, s.API+"/api/v1/chaos", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("mailpit chaos: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("mailpit chaos: %s: %s", resp.Status, b)
	}
}

func (s *Server) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := s.client.Get(s.API + path)
	if err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

func findBinary(t testing.TB) string {
	t.Helper()
	return need.Binary(t, "mailpit", EnvBinary, "scripts/install-mailpit")
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
