package notify

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func TestNotifySMTPURL(t *testing.T) {
	policies := map[string]string{
		"smtp://mail.example.com":    "TLSMandatory",
		"smtp://10.0.0.5:25":         "TLSMandatory",
		"smtp://127.0.0.1:1025":      "TLSOpportunistic",
		"smtp://[::1]:1025":          "TLSOpportunistic",
		"smtp://localhost:1025":      "TLSOpportunistic",
		"smtps://email-smtp.aws.com": "TLSMandatory",
	}
	for raw, want := range policies {
		s, err := NewSMTPSender(SMTPConfig{URL: raw})
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		c, err := mail.NewClient(s.host, s.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.TLSPolicy(); got != want {
			t.Errorf("%s: TLS policy %s, want %s (cleartext only to loopback)", raw, got, want)
		}
	}
	s, _ := NewSMTPSender(SMTPConfig{URL: "smtp://127.0.0.1:1025", Username: "u", Password: "p"})
	if c, _ := mail.NewClient(s.host, s.opts...); c.TLSPolicy() != "TLSMandatory" {
		t.Errorf("with credentials, a loopback server must still speak TLS; policy %s", c.TLSPolicy())
	}
	for _, bad := range []string{"mail.example.com", "http://mail.example.com", "smtp://user:pw@mail.example.com",
		"smtp://mail.example.com:0", "smtp://mail.example.com/x", "smtp://", "smtp://mail.example.com?x=1"} {
		if _, err := NewSMTPSender(SMTPConfig{URL: bad}); err == nil {
			t.Errorf("NewSMTPSender(%q) accepted it", bad)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
}

// TestNotifyClassifyLostConnection: a server that takes the message and
// hangs up before it answers leaves the outcome unknown, never retried.
func TestNotifyClassifyLostConnection(t *testing.T) {
	addr, _ := hangUpAfterData(t)
	s, err := NewSMTPSender(SMTPConfig{URL: "smtp://" + addr, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := mail.NewMsg()
	m.From("exports@example.com")
	m.To("alice@example.com")
	m.Subject("x")
	m.SetBodyString(mail.TypeTextPlain, "hello")
	err = s.Send(context.Background(), m)
	if v, reason := Classify(err); v != Unknown {
		t.Fatalf("lost connection after DATA: verdict %d (%s), want Unknown; err %v", v, reason, err)
	}
	if v, _ := Classify(&notSentError{err: net.ErrClosed}); v != Temporary {
		t.Errorf("a failed dial should be temporary")
	}
}

// hangUpAfterData is a minimal SMTP server on loopback that reads one
// message and closes the connection instead of answering it.
func hangUpAfterData(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var messages atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveHangUp(c, &messages)
		}
	}()
	return l.Addr().String(), &messages
}

func serveHangUp(c net.Conn, messages *atomic.Int64) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	c.Write([]byte("220 test ESMTP\r\n"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"):
			c.Write([]byte("250-test\r\n250 8BITMIME\r\n"))
		case cmd == "DATA":
			c.Write([]byte("354 go ahead\r\n"))
			messages.Add(1)
			for {
				l, err := r.ReadString('\n')
				if err != nil || l == ".\r\n" {
					return // hang up without a reply
				}
			}
		case cmd == "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return
		default:
			c.Write([]byte("250 ok\r\n"))
		}
	}
}

// TestNotifyLostConnectionKeepsClaim: when the server hangs up after the
// message was handed over, the claim stays "sending" and the user is
// listed as unknown, on this run and the next, with no second try.
func TestNotifyLostConnectionKeepsClaim(t *testing.T) {
	dst, err := blob.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := blob.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := `{"format":"periscope-sunset/export/v1","user_id":"alice","bytes":3,"parts":[{"key":"alice/periscope-alice.zip","size":3,"sha256":"x"}]}`
	for k, v := range map[string]string{"alice/manifest.json": m, "alice/periscope-alice.zip": "zip"} {
		dst.Put(ctx, k, strings.NewReader(v), blob.PutOptions{})
	}
	src.Put(ctx, "users.jsonl", strings.NewReader(`{"id":"alice","email":"alice@example.com"}`+"\n"), blob.PutOptions{})
	addr, messages := hangUpAfterData(t)
	s, err := NewSMTPSender(SMTPConfig{URL: "smtp://" + addr, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := portal.NewSigner([]byte("q7Vb2Lx9RmT4cWz8NpK3hYd6FgJ1sAe5"))
	opts := Options{BaseURL: "https://download.example.com", Signer: signer, From: "exports@example.com",
		Sender: s, Rate: 1000, Backoff: time.Millisecond}
	for range 2 {
		rep, err := Run(ctx, src, dst, opts)
		if err == nil || rep.Count(StatusUnknown) != 1 {
			t.Fatalf("lost connection: counts %v, users %+v, err %v; want alice unknown and a partial error", rep.Counts, rep.Users, err)
		}
		rec, _, err := readRecord(ctx, dst, "alice")
		if err != nil || rec.State != stateSending {
			t.Fatalf("record after a lost connection: %+v, %v; want it left as sending", rec, err)
		}
	}
	if n := messages.Load(); n != 1 {
		t.Fatalf("the server was handed %d messages over two runs, want 1", n)
	}
}
