package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/notify"
	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/mailpittest"
)

var testSecret = []byte("q7Vb2Lx9RmT4cWz8NpK3hYd6FgJ1sAe5")

const baseURL = "https://download.example.com"

func signer(t testing.TB) *portal.Signer {
	t.Helper()
	s, err := portal.NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	sampleOnce sync.Once
	sampleDir  string
	sampleErr  error
)

// exportedDest copies an export of the sample (made once per test binary)
// into a new folder store.
func exportedDest(t testing.TB) *blob.FileStore {
	t.Helper()
	sampleOnce.Do(func() {
		var p string
		if p, sampleErr = fixtures.SamplePath(); sampleErr != nil {
			return
		}
		src, err := blob.NewFile(p)
		if err != nil {
			sampleErr = err
			return
		}
		if sampleDir, sampleErr = os.MkdirTemp("", "notify-sample-"); sampleErr != nil {
			return
		}
		dst, _ := blob.NewFile(sampleDir)
		_, sampleErr = export.Run(context.Background(), src, dst, export.Options{Remux: export.RemuxNever})
	})
	if sampleErr != nil {
		t.Fatalf("export the sample: %v", sampleErr)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(sampleDir)); err != nil {
		t.Fatal(err)
	}
	dst, err := blob.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// hostileFromName tries to smuggle a header through the sender's name.
const hostileFromName = "Periscope\r\nBcc: eve@evil.example"

// hostileName is a display name that must come out escaped in HTML.
const hostileName = `<script>alert("x")</script><img src=x onerror=alert(1)> & "q"`

// usersSource is a users.jsonl for the sample's exports: two mailable
// users, and one of each kind that must never be mailed.
func usersSource(t testing.TB) blob.Store {
	t.Helper()
	lines := []map[string]any{
		{"id": "alice", "username": "alice", "display_name": "Alice Example", "email": "alice@example.com"},
		{"id": "bob_1", "username": "bob", "display_name": hostileName, "email": "bob@example.com"},
		{"id": "carol", "username": "carol", "display_name": "Carol", "email": "carol@example.com\r\nBcc: eve@evil.example"},
		{"id": "dave42", "username": "dave", "display_name": "Dave"},
		{"id": "zoe-aero", "username": "zoe", "display_name": "Zoe", "email": "Eve <eve@evil.example>"},
		{"id": "frank", "username": "frank", "display_name": "Frank", "email": "frank@example.com, eve@evil.example"},
		{"id": "nobody", "username": "nobody", "display_name": "Not exported", "email": "nobody@example.com"},
	}
	var b strings.Builder
	for _, l := range lines {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	b.WriteString("{not json\n")
	b.WriteString(`{"id":"eve@evil.example\r\n\u001b[2J","email":"eve@evil.example"}` + "\n")
	return sourceWith(t, b.String())
}

func sourceWith(t testing.TB, users string) blob.Store {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, export.UsersKey), []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := blob.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// mailable are the users of usersSource that get a message, by address.
var mailable = map[string]string{"alice@example.com": "alice", "bob@example.com": "bob_1"}

// countingSender counts the messages handed to the real SMTP sender.
type countingSender struct {
	next  notify.Sender
	calls atomic.Int64
}

func (c *countingSender) Send(ctx context.Context, m *mail.Msg) error {
	c.calls.Add(1)
	return c.next.Send(ctx, m)
}

func smtpSender(t testing.TB, mp *mailpittest.Server) *countingSender {
	t.Helper()
	s, err := notify.NewSMTPSender(notify.SMTPConfig{URL: mp.SMTPURL(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &countingSender{next: s}
}

func options(t testing.TB, s notify.Sender) notify.Options {
	return notify.Options{BaseURL: baseURL, Signer: signer(t), From: "exports@example.com", FromName: hostileFromName, Sender: s,
		Rate: 1000, Backoff: time.Millisecond, Retries: 2}
}

// run runs notify and fails the test on an error other than a partial one.
func run(t testing.TB, src, dst blob.Store, opts notify.Options) *notify.Report {
	t.Helper()
	rep, err := notify.Run(context.Background(), src, dst, opts)
	var partial *export.PartialError
	if err != nil && !errors.As(err, &partial) {
		t.Fatalf("notify: %v", err)
	}
	if rep == nil {
		t.Fatal("notify: no report")
	}
	return rep
}

var linkRE = regexp.MustCompile(`https://download\.example\.com/u/[A-Za-z0-9_-]+\?token=[A-Za-z0-9._%-]+`)

// checkLink finds the portal link in a message body and checks that the
// portal's verifier accepts its token for user.
func checkLink(t testing.TB, body, user string) {
	t.Helper()
	raw := linkRE.FindString(body)
	if raw == "" {
		t.Fatalf("no portal link in the message for %s:\n%s", user, body)
	}
	u, err := url.Parse(strings.ReplaceAll(raw, "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/u/"+user {
		t.Errorf("link for %s goes to %s", user, u.Path)
	}
	exp, err := signer(t).Verify(user, u.Query().Get("token"), time.Now())
	if err != nil {
		t.Errorf("link token for %s: %v", user, err)
	}
	if d := time.Until(exp); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("link for %s expires in %v, want the default 30 days", user, d)
	}
}

func statusOf(rep *notify.Report, user string) notify.Status {
	for _, u := range rep.Users {
		if u.User == user {
			return u.Status
		}
	}
	for _, u := range rep.Sent {
		if u == user {
			return notify.StatusSent
		}
	}
	return ""
}
