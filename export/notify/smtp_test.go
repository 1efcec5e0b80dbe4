package notify

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wneessen/go-mail"
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
	addr := hangUpAfterData(t)
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
func hangUpAfterData(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveHangUp(c)
		}
	}()
	return l.Addr().String()
}

func serveHangUp(c net.Conn) {
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
