package export

import (
	"bytes"
	"fmt"
	"path"

	"github.com/periscope-sunset/periscope-sunset/export/chatvtt"
)

// A broadcast's chat.jsonl is copied verbatim and, in the same read,
// converted into data/broadcasts/<id>/chat.vtt, written right after it in
// the same part, and into the transcript the viewer shows
// (docs/format/export.md, "The chat track").
const (
	chatTrackName = "chat.vtt"

	// maxChatTrack bounds one chat.vtt. It is built in memory, from the
	// same read that copies chat.jsonl, and written whole after it: the
	// two cannot be written into the zip at once, and a generated entry
	// needs its size before its bytes. So each worker may hold up to this
	// much beside the upload budget, for the length of one chat. A track is
	// about the size of its chat (hundreds of KiB for a busy broadcast);
	// only text made of & < > grows, five-fold at worst. Cues past the
	// bound are left out with a warning; chat.jsonl keeps every message.
	maxChatTrack = 16 << 20

	// The viewer carries each track inline (a data: URL: Chromium loads no
	// <track> from a file:// page otherwise) and a transcript of each chat.
	// These bound what one user's index.html holds; past them a track is
	// linked instead of inlined, and the transcript says how many messages
	// only chat.jsonl has.
	maxInlineTrack     = 4 << 20  // a chat of some 30,000 messages
	maxInlineTracks    = 16 << 20 // per user
	maxShownMessages   = 1000     // per broadcast
	maxTranscriptBytes = 8 << 20  // per user, of authors and texts

	// maxChatWarnings bounds the warnings one chat adds to the report.
	maxChatWarnings = 3
)

// chatBudget is what a user's index.html may still carry of the chats.
type chatBudget struct {
	inline, transcript int64
}

func newChatBudget() *chatBudget {
	return &chatBudget{inline: maxInlineTracks, transcript: maxTranscriptBytes}
}

// chatTranscript is what the viewer shows of one broadcast's chat.
type chatTranscript struct {
	Messages []chatvtt.Message
	Hidden   int    // messages beyond the bounds, only in chat.jsonl
	Track    []byte // chat.vtt, when small enough to inline
}

// planChatTrack marks the broadcast's chat.jsonl for conversion and plans
// room for its track. A source folder with its own chat.vtt keeps it: the
// export never overwrites a user's file with one it made.
func planChatTrack(b *Broadcast, bagDir string, media []entry) []string {
	if b.Chat == "" {
		return nil
	}
	for _, e := range media {
		if e.Path == bagDir+chatTrackName {
			return []string{fmt.Sprintf("broadcast %s: the source has its own %s; no chat track made", b.ID, chatTrackName)}
		}
	}
	for i := range media {
		if media[i].Path == b.Chat {
			b.ChatTrack = bagDir + chatTrackName
			media[i].Extra = trackLimit(media[i].Size)
		}
	}
	return nil
}

func trackLimit(chatSize int64) int64 { return min(2*chatSize+4<<10, maxChatTrack) }

// chatTrack converts one chat.jsonl as it is copied.
type chatTrack struct {
	p       *partWriter
	b       *Broadcast
	e       entry
	vtt     bytes.Buffer
	conv    *chatvtt.Converter
	t       chatTranscript
	skipped int
}

func (p *partWriter) newChatTrack(b *Broadcast, e entry) *chatTrack {
	t := &chatTrack{p: p, b: b, e: e}
	t.conv = chatvtt.New(&t.vtt, b.StartedAt, t.keep, t.skip)
	t.conv.Limit = trackLimit(e.Size)
	return t
}

// keep adds a message to the transcript while the user's budget lasts.
func (t *chatTrack) keep(m chatvtt.Message) {
	cost := int64(len(m.Author) + len(m.Text) + 64)
	if len(t.t.Messages) >= maxShownMessages || t.p.chats.transcript < cost {
		t.t.Hidden++
		return
	}
	t.p.chats.transcript -= cost
	t.t.Messages = append(t.t.Messages, m)
}

// skip reports a malformed line: it costs that line, never the user.
func (t *chatTrack) skip(s chatvtt.Skipped) {
	t.skipped++
	if t.skipped <= maxChatWarnings {
		t.p.warn(fmt.Sprintf("broadcast %s: %s line %d skipped: %s", t.b.ID, path.Base(t.e.Path), s.Line, s.Reason))
	}
}

// finish ends the track, writes chat.vtt next to chat.jsonl and records
// what the viewer and broadcasts.json say about the chat.
func (t *chatTrack) finish() error {
	if err := t.conv.Close(); err != nil {
		return fmt.Errorf("convert %s: %w", t.e.Key, err)
	}
	if t.skipped > maxChatWarnings {
		t.p.warn(fmt.Sprintf("broadcast %s: %d more malformed chat lines skipped", t.b.ID, t.skipped-maxChatWarnings))
	}
	if t.conv.Truncated {
		t.p.warn(fmt.Sprintf("broadcast %s: %s holds the cues of its first %d bytes only; chat.jsonl has every message",
			t.b.ID, chatTrackName, t.vtt.Len()))
	}
	if _, err := t.p.addBody(t.b.ChatTrack, t.vtt.Bytes(), t.e.ModTime); err != nil {
		return err
	}
	t.b.ChatMessages, t.b.ChatCues = t.conv.Messages, t.conv.Cues
	if n := int64(t.vtt.Len()); t.conv.Cues > 0 && n <= maxInlineTrack && n <= t.p.chats.inline {
		t.p.chats.inline -= n
		t.t.Track = t.vtt.Bytes()
	}
	shown := t.t // a copy: a pointer into t would keep the whole track alive
	t.b.chat = &shown
	return nil
}
