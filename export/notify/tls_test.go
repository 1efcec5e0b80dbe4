package notify_test

import (
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export/notify"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/mailpittest"
)

// TestNotifyImplicitTLS sends over smtps:// to a server that speaks TLS
// from the first byte, with AUTH.
func TestNotifyImplicitTLS(t *testing.T) {
	mp, cert := mailpittest.StartTLS(t, mailpittest.Implicit, "--smtp-auth-accept-any", "--tags-username")
	s, err := notify.NewSMTPSender(notify.SMTPConfig{URL: "smtps://" + mp.SMTPAddr, Username: "ses-user", Password: "pw",
		TLS: mailpittest.TLSConfig(t, cert, "127.0.0.1"), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src := sourceWith(t, `{"id":"alice","email":"alice@example.com"}`+"\n")
	rep := run(t, src, exportedDest(t), options(t, s))
	msgs := mp.Messages(t)
	if rep.Count(notify.StatusSent) != 1 || len(msgs) != 1 || len(msgs[0].Tags) != 1 || msgs[0].Tags[0] != "ses-user" {
		t.Fatalf("smtps: counts %v, messages %+v; want one sent after AUTH as ses-user", rep.Counts, msgs)
	}
}

// TestNotifyNoCleartextCredentials: credentials are never sent over a
// connection without TLS, even to a loopback server that would take them.
func TestNotifyNoCleartextCredentials(t *testing.T) {
	mp := mailpittest.Start(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	s, err := notify.NewSMTPSender(notify.SMTPConfig{URL: mp.SMTPURL(), Username: "ses-user", Password: "pw", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	src := sourceWith(t, `{"id":"alice","email":"alice@example.com"}`+"\n")
	opts := options(t, s)
	opts.Retries = 1
	rep := run(t, src, exportedDest(t), opts)
	if rep.Count(notify.StatusFailed) != 1 || len(mp.Messages(t)) != 0 {
		t.Fatalf("AUTH over cleartext: counts %v, %d messages; want the send refused", rep.Counts, len(mp.Messages(t)))
	}
	t.Logf("refused: %s", rep.Users[0].Reason)
}
