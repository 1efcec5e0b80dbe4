package export

import (
	"encoding/base64"
	"html/template"

	"github.com/periscope-sunset/periscope-sunset/export/chatvtt"
)

// viewerChat is what the page shows of a broadcast's chat: the caption
// track of its <video> and the transcript under it.
type viewerChat struct {
	Track      template.URL // chat.vtt inline (a data: URL), or its bag path
	Linked     bool         // Track is the bag path: browsers load it over HTTP only
	Transcript []viewerMessage
	Hidden     int // messages only chat.jsonl has
}

type viewerMessage struct {
	Time, Author, Text string
}

// newViewerChat is the template's chatView.
func newViewerChat(b *Broadcast) viewerChat {
	var v viewerChat
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
