package notify_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export/notify"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/mailpittest"
)

func writeTemplates(t *testing.T, text, html string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{notify.TextTemplate: text, notify.HTMLTemplate: html} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestNotifyCustomTemplates: a --template folder replaces both parts; the
// HTML one is still escaped; a template that does not render is refused
// before anything is sent.
func TestNotifyCustomTemplates(t *testing.T) {
	for name, dir := range map[string]string{
		"unknown field": writeTemplates(t, "{{.Nope}}", "<p>x</p>"),
		"syntax":        writeTemplates(t, "{{", "<p>x</p>"),
		"missing":       t.TempDir(),
	} {
		if _, err := notify.LoadTemplates(dir); err == nil {
			t.Errorf("%s: LoadTemplates accepted it", name)
		}
	}
	tm, err := notify.LoadTemplates(writeTemplates(t, "Custom for {{.Name}}: {{.Link}}", `<p>Custom for {{.Name}}: <a href="{{.Link}}">x</a></p>`))
	if err != nil {
		t.Fatal(err)
	}
	mp := mailpittest.Start(t)
	opts := options(t, smtpSender(t, mp))
	opts.Templates = tm
	run(t, usersSource(t), exportedDest(t), opts)
	for _, s := range mp.Messages(t) {
		m := mp.Message(t, s.ID)
		if !strings.HasPrefix(m.Text, "Custom for ") || !strings.Contains(m.HTML, "Custom for ") {
			t.Errorf("message to %s does not use the custom templates:\n%s", s.To[0].Address, m.Text)
		}
		if strings.Contains(m.HTML, "<script>") {
			t.Errorf("custom HTML template let the display name through unescaped:\n%s", m.HTML)
		}
	}
}
