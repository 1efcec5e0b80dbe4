package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	texttemplate "text/template"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

//go:embed templates/*.tmpl
var builtin embed.FS

// Template file names, in the built-in set and in a --template folder.
const (
	TextTemplate = "text.tmpl"
	HTMLTemplate = "html.tmpl"
)

// Templates render a message's two parts. The HTML one is html/template,
// so whatever a user put in their display name is escaped.
type Templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// BuiltinTemplates returns the templates shipped in the binary.
func BuiltinTemplates() *Templates {
	t, err := parseTemplates(func(name string) ([]byte, error) { return builtin.ReadFile("templates/" + name) })
	if err != nil {
		panic(err) // the embedded files are tested
	}
	return t
}

// LoadTemplates reads text.tmpl and html.tmpl from dir and checks that
// they render.
func LoadTemplates(dir string) (*Templates, error) {
	t, err := parseTemplates(func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) })
	if err != nil {
		return nil, fmt.Errorf("templates in %s: %w", dir, err)
	}
	if _, _, err := t.render(sampleData()); err != nil {
		return nil, fmt.Errorf("templates in %s: %w", dir, err)
	}
	return t, nil
}

func parseTemplates(read func(string) ([]byte, error)) (*Templates, error) {
	tb, err := read(TextTemplate)
	if err != nil {
		return nil, err
	}
	hb, err := read(HTMLTemplate)
	if err != nil {
		return nil, err
	}
	var t Templates
	if t.text, err = texttemplate.New(TextTemplate).Option("missingkey=error").Parse(string(tb)); err != nil {
		return nil, err
	}
	if t.html, err = htmltemplate.New(HTMLTemplate).Option("missingkey=error").Parse(string(hb)); err != nil {
		return nil, err
	}
	return &t, nil
}

// Data is what a template sees.
type Data struct {
	UserID     string
	Name       string // display name (or username), cleaned; may be empty
	Link       string
	Expires    string // e.g. "2021-06-30 00:00 UTC"
	ExpiresAt  time.Time
	Size       string // e.g. "1.2 GiB"
	Bytes      int64
	Parts      int
	Milestones []DatedStep
}

// DatedStep is a shutdown milestone as the email shows it.
type DatedStep struct {
	Title string
	Date  string
	At    time.Time
}

func newData(u user, l portal.Link, ms []Milestone) Data {
	d := Data{UserID: u.ID, Name: u.Name, Link: l.URL, ExpiresAt: l.ExpiresAt,
		Expires: l.ExpiresAt.UTC().Format("2006-01-02 15:04 MST"),
		Size:    units.Bytes(l.Bytes), Bytes: l.Bytes, Parts: l.Parts}
	for _, m := range ms {
		d.Milestones = append(d.Milestones, DatedStep{Title: m.Title, At: m.At, Date: m.At.UTC().Format("2006-01-02")})
	}
	return d
}

func sampleData() Data {
	at := time.Date(2021, 6, 30, 0, 0, 0, 0, time.UTC)
	return newData(user{ID: "sample", Name: "Sample"},
		portal.Link{UserID: "sample", URL: "https://download.example.com/u/sample?token=x", ExpiresAt: at, Parts: 2, Bytes: 1 << 30},
		[]Milestone{{Title: "Close the export window", At: at}})
}

func (t *Templates) render(d Data) (text, html string, err error) {
	var tb, hb bytes.Buffer
	if err := t.text.Execute(&tb, d); err != nil {
		return "", "", fmt.Errorf("render %s: %w", TextTemplate, err)
	}
	if err := t.html.Execute(&hb, d); err != nil {
		return "", "", fmt.Errorf("render %s: %w", HTMLTemplate, err)
	}
	return tb.String(), hb.String(), nil
}
