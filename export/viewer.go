package export

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"time"
)

//go:embed viewer.html
var viewerSource string

// viewerTemplate renders index.html: a static page with no scripts, fonts or
// network access, so it opens from disk years from now. html/template
// escapes every title and name the users typed.
var viewerTemplate = template.Must(template.New("viewer").Funcs(template.FuncMap{
	"date":     viewerDate,
	"duration": viewerDuration,
}).Parse(viewerSource))

type viewerData struct {
	User        User
	Name        string
	Broadcasts  []*Broadcast
	Omitted     []Omission // what the export left out, and why
	ToolVersion string
}

func renderViewer(u User, bs []*Broadcast, omitted []Omission, toolVersion string) ([]byte, error) {
	name := u.DisplayName
	if name == "" {
		name = u.Username
	}
	if name == "" {
		name = u.ID
	}
	var b bytes.Buffer
	err := viewerTemplate.Execute(&b, viewerData{User: u, Name: name, Broadcasts: bs, Omitted: omitted, ToolVersion: toolVersion})
	return b.Bytes(), err
}

func viewerDate(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2 January 2006, 15:04 UTC")
}

func viewerDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	if d <= 0 {
		return "duration unknown"
	}
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
