package export

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export/chatvtt"
)

//go:embed viewer.html
var viewerSource string

// viewerTemplate renders index.html: a static page with no scripts, fonts or
// network access (its Content-Security-Policy forbids them), so it opens
// from disk years from now. html/template escapes every title and name the
// users typed, and the page isolates each one's direction (<bdi>,
// dir="auto") so right-to-left text cannot reorder the text around it.
var viewerTemplate = template.Must(template.New("viewer").Funcs(template.FuncMap{
	"date":     viewerDate,
	"duration": viewerDuration,
}).Parse(viewerSource))

type viewerData struct {
	User        User
	Name        string
	Broadcasts  []viewerBroadcast
	ToolVersion string
}

// viewerBroadcast is a broadcast as the page shows it, with its chat.
type viewerBroadcast struct {
	*Broadcast
	Track      template.URL // chat.vtt inline (a data: URL), or its bag path
	Linked     bool         // Track is the bag path: browsers load it over HTTP only
	Transcript []viewerMessage
	Hidden     int // messages only chat.jsonl has
}

type viewerMessage struct {
	Time, Author, Text string
}

func newViewerBroadcast(b *Broadcast) viewerBroadcast {
	v := viewerBroadcast{Broadcast: b}
	if b.ChatTrack != "" && b.ChatCues > 0 {
		// A bag path, not user input: the template may trust it as a URL.
		v.Track, v.Linked = template.URL(b.ChatTrack), true
	}
	if c := b.chat; c != nil {
		if c.Track != nil {
			v.Track, v.Linked = template.URL("data:text/vtt;charset=utf-8;base64,"+base64.StdEncoding.EncodeToString(c.Track)), false
		}
		v.Hidden = c.Hidden
		for _, m := range c.Messages {
			v.Transcript = append(v.Transcript, viewerMessage{Time: messageTime(m), Author: m.Author, Text: m.Text})
		}
	}
	return v
}

// messageTime is when a message was written: its place in the replay, or
// else the date it carries.
func messageTime(m chatvtt.Message) string {
	switch {
	case m.Timed:
		return clock(m.Offset)
	case m.At != "":
		return viewerDate(m.At)
	}
	return "–"
}

func renderViewer(u User, bs []*Broadcast, toolVersion string) ([]byte, error) {
	name := u.DisplayName
	if name == "" {
		name = u.Username
	}
	if name == "" {
		name = u.ID
	}
	vbs := make([]viewerBroadcast, len(bs))
	for i, b := range bs {
		vbs[i] = newViewerBroadcast(b)
	}
	var b bytes.Buffer
	err := viewerTemplate.Execute(&b, viewerData{User: u, Name: name, Broadcasts: vbs, ToolVersion: toolVersion})
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
	return clock(d)
}

// clock formats d as m:ss or h:mm:ss, rounded down to the second.
func clock(d time.Duration) string {
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
