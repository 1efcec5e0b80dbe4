package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/notify"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/mailpittest"
)

// TestNotifyMailpit mails the sample's users through a real SMTP server,
// reads every message back, and mails nobody on a rerun.
func TestNotifyMailpit(t *testing.T) {
	mp := mailpittest.Start(t)
	dst, src := exportedDest(t), usersSource(t)
	sender := smtpSender(t, mp)
	rep := run(t, src, dst, options(t, sender))

	msgs := mp.Messages(t)
	t.Logf("mailpit holds %d messages after the first run", len(msgs))
	if len(msgs) != len(mailable) {
		t.Fatalf("mailpit got %d messages, want %d (one per mailable user)", len(msgs), len(mailable))
	}
	seen := map[string]bool{}
	for _, s := range msgs {
		if len(s.To) != 1 || len(s.Cc)+len(s.Bcc) != 0 {
			t.Fatalf("message %s has recipients %+v cc %+v bcc %+v, want exactly one To", s.ID, s.To, s.Cc, s.Bcc)
		}
		addr := s.To[0].Address
		user, ok := mailable[addr]
		if !ok || seen[addr] {
			t.Fatalf("unexpected or repeated recipient %q", addr)
		}
		seen[addr] = true
		if s.From.Address != "exports@example.com" || s.From.Name != "Periscope Bcc: eve@evil.example" {
			t.Errorf("message %s is from %+v, want exports@example.com with the sender name on one line", s.ID, s.From)
		}
		if h := mp.Headers(t, s.ID); len(h["Bcc"])+len(h["Cc"]) != 0 || len(h["From"]) != 1 || len(h["To"]) != 1 {
			t.Errorf("message %s headers: %v", s.ID, h)
		}
		if s.To[0].Name != "" {
			t.Errorf("recipient %s carries display name %q; users.jsonl names must never reach a header", addr, s.To[0].Name)
		}
		m := mp.Message(t, s.ID)
		checkLink(t, m.Text, user)
		checkLink(t, m.HTML, user)
		for _, want := range []string{"verify", "SHA-256"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("text part for %s does not mention %q", user, want)
			}
		}
		if user == "bob_1" {
			if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<img src=x") {
				t.Errorf("HTML part holds the display name unescaped:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, "&lt;script&gt;") {
				t.Errorf("HTML part does not show the display name escaped:\n%s", m.HTML)
			}
		}
	}
	wantCounts := map[notify.Status]int{notify.StatusSent: 2, notify.StatusBadAddress: 3,
		notify.StatusNoEmail: 1, notify.StatusNotReady: 1, notify.StatusBadLine: 2}
	for st, n := range wantCounts {
		if got := rep.Count(st); got != n {
			t.Errorf("first run: %d users %s, want %d", got, st, n)
		}
	}
	for _, u := range []string{"carol", "zoe-aero", "frank"} {
		if st := statusOf(rep, u); st != notify.StatusBadAddress {
			t.Errorf("user %s: status %q, want bad-address", u, st)
		}
	}
	checkReportHasNoSecrets(t, dst, rep)
	// status reads _runs/*.json as export reports; notify's are its own.
	if st, err := export.ReadStatus(context.Background(), dst, nil); err != nil || st.Runs != 1 {
		t.Errorf("status after notify: %+v, %v; want the one export run only", st, err)
	}

	rep2 := run(t, src, dst, options(t, sender))
	if n := len(mp.Messages(t)); n != len(mailable) {
		t.Fatalf("after the rerun mailpit holds %d messages, want still %d", n, len(mailable))
	}
	if rep2.Count(notify.StatusAlreadySent) != 2 || rep2.Count(notify.StatusSent) != 0 {
		t.Errorf("rerun: counts %v, want 2 already-sent and none sent", rep2.Counts)
	}
	if sender.calls.Load() != 2 {
		t.Errorf("the sender was called %d times over two runs, want 2", sender.calls.Load())
	}
}

// checkReportHasNoSecrets reads the stored report: no address, no link,
// no token.
func checkReportHasNoSecrets(t *testing.T, dst blob.Store, rep *notify.Report) {
	t.Helper()
	rc, err := dst.Get(context.Background(), rep.Key())
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	for _, bad := range []string{"@", "token", "https://"} {
		if strings.Contains(string(body), bad) {
			t.Errorf("report %s contains %q:\n%s", rep.Key(), bad, body)
		}
	}
}

func TestNotifyDryRunSendsNothing(t *testing.T) {
	mp := mailpittest.Start(t)
	dst, src := exportedDest(t), usersSource(t)
	opts := options(t, smtpSender(t, mp))
	opts.DryRun = true
	rep := run(t, src, dst, opts)
	if rep.Count(notify.StatusWouldSend) != 2 {
		t.Errorf("dry run: counts %v, want 2 would-send", rep.Counts)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Fatalf("a dry run sent %d messages", n)
	}
	err := dst.List(context.Background(), "", func(i blob.Info) error {
		if strings.HasSuffix(i.Key, notify.RecordName) || strings.HasPrefix(i.Key, notify.ReportPrefix) {
			t.Errorf("a dry run wrote %s", i.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNotifyConcurrentRunsSendOnce starts several runs at once on one
// destination: each user is mailed exactly once between them.
func TestNotifyConcurrentRunsSendOnce(t *testing.T) {
	mp := mailpittest.Start(t)
	dst, src := exportedDest(t), usersSource(t)
	sender := smtpSender(t, mp)
	const runs = 4
	reps := make([]*notify.Report, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() { reps[i] = run(t, src, dst, options(t, sender)) })
	}
	wg.Wait()
	sent := 0
	for _, r := range reps {
		sent += r.Count(notify.StatusSent)
	}
	if n := len(mp.Messages(t)); n != len(mailable) || sent != len(mailable) {
		t.Fatalf("%d concurrent runs: mailpit holds %d messages, runs report %d sent; want %d each",
			runs, n, sent, len(mailable))
	}
	t.Logf("%d concurrent runs: %d messages in mailpit, sender called %d times", runs, len(mp.Messages(t)), sender.calls.Load())
}

// TestNotifyCrashAfterClaim: a claim left by a run that died before it
// confirmed the send is never resent on its own, only with Resend.
func TestNotifyCrashAfterClaim(t *testing.T) {
	mp := mailpittest.Start(t)
	dst, src := exportedDest(t), usersSource(t)
	sender := smtpSender(t, mp)
	claim := `{"state":"sending","run_id":"notify-crashed","export":"x","at":"2021-04-01T00:00:00Z"}`
	if _, err := dst.Put(context.Background(), notify.RecordKey("alice"), strings.NewReader(claim), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := notify.Run(context.Background(), src, dst, options(t, sender))
	var partial *export.PartialError
	if !errors.As(err, &partial) {
		t.Fatalf("run with an unknown claim: err %v, want a partial error", err)
	}
	if st := statusOf(rep, "alice"); st != notify.StatusUnknown {
		t.Fatalf("alice: %q, want unknown", st)
	}
	if n := len(mp.Messages(t)); n != 1 {
		t.Fatalf("mailpit holds %d messages, want 1 (bob only)", n)
	}
	opts := options(t, sender)
	opts.Resend = []string{"alice"}
	rep = run(t, src, dst, opts)
	if rep.Count(notify.StatusSent) != 1 || statusOf(rep, "alice") != notify.StatusSent {
		t.Fatalf("with --resend alice: counts %v, want alice sent", rep.Counts)
	}
	if n := len(mp.Messages(t)); n != 2 {
		t.Fatalf("mailpit holds %d messages, want 2", n)
	}
}

// TestNotifyRenotifyChanged: a user whose export changed after the email is
// mailed again only when asked.
func TestNotifyRenotifyChanged(t *testing.T) {
	mp := mailpittest.Start(t)
	dst, src := exportedDest(t), usersSource(t)
	sender := smtpSender(t, mp)
	run(t, src, dst, options(t, sender))
	changeManifest(t, dst, "alice")

	rep := run(t, src, dst, options(t, sender))
	if st := statusOf(rep, "alice"); st != notify.StatusChanged {
		t.Fatalf("alice after her export changed: %q, want changed", st)
	}
	if n := len(mp.Messages(t)); n != 2 {
		t.Fatalf("mailpit holds %d messages, want 2", n)
	}
	opts := options(t, sender)
	opts.RenotifyChanged = true
	rep = run(t, src, dst, opts)
	if rep.Count(notify.StatusSent) != 1 || statusOf(rep, "alice") != notify.StatusSent {
		t.Fatalf("with RenotifyChanged: counts %v, want alice sent again", rep.Counts)
	}
	rep = run(t, src, dst, opts)
	if rep.Count(notify.StatusSent) != 0 || len(mp.Messages(t)) != 3 {
		t.Fatalf("a second RenotifyChanged run: counts %v, %d messages; want none sent, 3 messages",
			rep.Counts, len(mp.Messages(t)))
	}
}

// changeManifest rewrites a user's manifest as a re-export with different
// bytes would.
func changeManifest(t *testing.T, dst blob.Store, user string) {
	t.Helper()
	m, err := export.ReadManifest(context.Background(), dst, user)
	if err != nil {
		t.Fatal(err)
	}
	m.Parts[0].SHA256 = strings.Repeat("0", 64)
	body, _ := json.Marshal(m)
	if _, err := dst.Put(context.Background(), user+"/"+export.ManifestName, strings.NewReader(string(body)), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestNotifySMTPRefusals: a temporary refusal is retried and released for
// the next run; a permanent one is recorded and never retried blindly.
func TestNotifySMTPRefusals(t *testing.T) {
	mp := mailpittest.Start(t, "--enable-chaos")
	dst, src := exportedDest(t), sourceWith(t, `{"id":"alice","email":"alice@example.com"}`+"\n")
	sender := smtpSender(t, mp)
	opts := options(t, sender)

	mp.SetChaos(t, "Recipient", 451)
	rep := run(t, src, dst, opts)
	if st := statusOf(rep, "alice"); st != notify.StatusFailed || sender.calls.Load() != int64(opts.Retries+1) {
		t.Fatalf("451: alice %q after %d tries, want failed after %d", st, sender.calls.Load(), opts.Retries+1)
	}
	if _, err := dst.Stat(context.Background(), notify.RecordKey("alice")); !errors.Is(err, blob.ErrNotExist) {
		t.Fatalf("after a temporary refusal the claim should be released: %v", err)
	}

	mp.SetChaos(t, "Recipient", 550)
	sender.calls.Store(0)
	rep = run(t, src, dst, opts)
	if st := statusOf(rep, "alice"); st != notify.StatusRefused || sender.calls.Load() != 1 {
		t.Fatalf("550: alice %q after %d tries, want refused after 1", st, sender.calls.Load())
	}
	mp.SetChaos(t, "Recipient", 0)
	rep = run(t, src, dst, opts)
	if st := statusOf(rep, "alice"); st != notify.StatusRefused || sender.calls.Load() != 1 {
		t.Fatalf("rerun after 550: alice %q, sender called %d times; want refused without a try", st, sender.calls.Load())
	}
	opts.Resend = []string{"alice"}
	rep = run(t, src, dst, opts)
	if statusOf(rep, "alice") != notify.StatusSent || len(mp.Messages(t)) != 1 {
		t.Fatalf("--resend alice: %q, %d messages; want sent, 1", statusOf(rep, "alice"), len(mp.Messages(t)))
	}
}
