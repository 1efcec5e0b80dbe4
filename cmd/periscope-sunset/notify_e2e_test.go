package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/mailpittest"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

// notifySource copies the sample's users.jsonl with carol's email turned
// into a header injection, and returns the folder and every address in it.
func notifySource(t *testing.T) (string, []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplePath(t), export.UsersKey))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var emails []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var u map[string]any
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatal(err)
		}
		emails = append(emails, u["email"].(string))
		if u["id"] == "carol" {
			u["email"] = "carol@example.com\r\nBcc: eve@evil.example"
		}
		j, _ := json.Marshal(u)
		out.Write(append(j, '\n'))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, export.UsersKey), []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, emails
}

// TestNotifyAndPurgeEndToEnd runs the built binary as the runbook orders
// it: export, notify (through a real SMTP server with AUTH), notify again,
// then purge, and reads the audit log.
func TestNotifyAndPurgeEndToEnd(t *testing.T) {
	mp, cert := mailpittest.StartTLS(t, mailpittest.STARTTLS, "--smtp-auth-accept-any", "--tags-username")
	dest, state := t.TempDir(), t.TempDir()
	src, emails := notifySource(t)
	secretFile, secret := writeSecret(t)
	run(t, nil, "export", "--source", samplePath(t), "--dest", dest, "--remux", "never", "--progress", "none").want(t, 0)
	run(t, nil, "delist", "schedule", "--at", "2099-03-31", "--stores", "google", "--state", state).want(t, 0)

	const password = "smtp-password-never-printed"
	env := []string{"PERISCOPE_SUNSET_SMTP_USERNAME=ses-user", "PERISCOPE_SUNSET_SMTP_PASSWORD=" + password,
		"SSL_CERT_FILE=" + cert}
	args := []string{"notify", "--source", src, "--dest", dest, "--base-url", "https://download.example.com",
		"--secret-file", secretFile, "--smtp", mp.SMTPURL(), "--from", "exports@example.com",
		"--state", state, "--actor", "ops-ana", "--progress", "none"}
	dry := []string{"notify", "--source", src, "--dest", dest, "--base-url", "https://download.example.com",
		"--secret-file", secretFile, "--from", "exports@example.com", "--state", state, "--dry-run"}
	r := run(t, nil, dry...).want(t, exitPartial)
	if n := len(mp.Messages(t)); n != 0 || !strings.Contains(r.stdout, "would send 9 emails") {
		t.Fatalf("dry run without --smtp: %d messages sent\n%s", n, r.stdout)
	}
	r = run(t, env, args...).want(t, exitPartial)
	t.Logf("notify: %s%s", r.stdout, r.stderr)
	if n := len(mp.Messages(t)); n != 9 || !strings.Contains(r.stdout, "sent 9 emails") {
		t.Fatalf("first notify: mailpit holds %d messages, want 9 (every user but carol)\n%s", n, r.stdout)
	}
	if !strings.Contains(r.stderr, "bad-address carol") {
		t.Errorf("carol's CR/LF address is not listed:\n%s", r.stderr)
	}
	if tags := mp.Messages(t)[0].Tags; len(tags) != 1 || tags[0] != "ses-user" {
		t.Errorf("message tags %v: want the AUTH username ses-user (the credentials from the environment)", tags)
	}
	m := mp.Message(t, mp.Messages(t)[0].ID)
	if !strings.Contains(m.Text, "2099-") || !strings.Contains(m.Text, "deleted") {
		t.Errorf("the message does not name the shutdown dates:\n%s", m.Text)
	}
	r = run(t, env, args...).want(t, exitPartial)
	if n := len(mp.Messages(t)); n != 9 || !strings.Contains(r.stdout, "already sent 9") {
		t.Fatalf("rerun: mailpit holds %d messages, want still 9\n%s", n, r.stdout)
	}
	for _, s := range append(emails, secret, password) {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("notify printed %q", s)
		}
	}

	r = run(t, nil, "purge", "--dest", dest, "--state", state).want(t, exitFailed)
	if !strings.Contains(r.stderr, "--yes") {
		t.Errorf("purge without --yes: %s", r.stderr)
	}
	r = run(t, nil, "purge", "--dest", dest, "--dry-run", "--state", state).want(t, 0)
	if !strings.Contains(r.stdout, "would delete alice:") {
		t.Errorf("dry run does not list users:\n%s", r.stdout)
	}
	r = run(t, nil, "purge", "--dest", dest, "--yes", "--state", state).want(t, exitFailed)
	if !strings.Contains(r.stderr, "--before-window-close") {
		t.Errorf("purge inside the export window: %s", r.stderr)
	}
	run(t, nil, "purge", "--dest", dest, "--yes", "--user", "alice", "--state", state, "--actor", "ops-ana").want(t, 0)
	r = run(t, nil, "purge", "--dest", dest, "--yes", "--before-window-close", "--state", state, "--actor", "ops-ana").want(t, 0)
	t.Logf("purge: %s", r.stdout)
	checkOnlyRunsLeft(t, dest)
	run(t, nil, "status", "--dest", dest).want(t, 0)
	checkExportAudit(t, state)
}

func checkOnlyRunsLeft(t *testing.T, dest string) {
	t.Helper()
	st, err := blob.NewFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	var runs int
	err = st.List(context.Background(), "", func(i blob.Info) error {
		if !strings.HasPrefix(i.Key, export.RunsPrefix) {
			t.Errorf("left after purge: %s", i.Key)
		}
		runs++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 5 { // export, two notify runs, two purges
		t.Errorf("%d run reports left, want 5", runs)
	}
}

func checkExportAudit(t *testing.T, state string) {
	t.Helper()
	r := run(t, nil, "runbook", "audit", "--json", "--state", state).want(t, 0)
	count := map[string]int{}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for dec.More() {
		var e sunset.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(e.Action, "export.") {
			count[e.Action]++
			if e.Actor != "ops-ana" || strings.Contains(string(e.After)+e.Detail, "@") {
				t.Errorf("audit event %s: actor %q, detail %q, after %s", e.Action, e.Actor, e.Detail, e.After)
			}
		}
	}
	if count["export.notify"] != 2 || count["export.purge"] != 2 {
		t.Errorf("audit events %v, want 2 export.notify and 2 export.purge", count)
	}
}
