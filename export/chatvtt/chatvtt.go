// Package chatvtt turns a broadcast's chat.jsonl into a WebVTT track, so a
// video player shows each message over the replay at the moment it was
// written (docs/format/source.md says which chat fields are read,
// docs/format/export.md what the track holds).
//
// A Converter is an io.Writer: the export tees chat.jsonl into it while it
// copies the file, so the chat is read once and never held whole. It keeps
// one message back (a cue ends when the next message starts) and one
// partial line. It runs in the caller's goroutine; it does no I/O of its
// own besides writing the track.
package chatvtt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Cue timing: a message shows until the next one starts, for at least
// MinShow (so a burst stays readable: overlapping cues stack) and at most
// MaxShow (so a lone message does not linger over a silent minute).
const (
	MinShow = time.Second
	MaxShow = 4 * time.Second
)

// MaxLine bounds one chat.jsonl line; a longer one is skipped as malformed
// without being buffered.
const MaxLine = 64 << 10

// maxOffset rejects offsets no broadcast can have (a year), which are
// corrupt data rather than a moment of the replay.
const maxOffset = 365 * 24 * time.Hour

// Message is one usable chat.jsonl line.
type Message struct {
	Line   int           // 1-based line number in chat.jsonl
	At     string        // the line's "at", as written
	Offset time.Duration // since the replay's start; valid when Timed
	Timed  bool          // false: no usable time, so no cue (transcript only)
	Author string
	Text   string
}

// Skipped is a chat.jsonl line that is not a message.
type Skipped struct {
	Line   int
	Reason string
}

// Converter writes the WebVTT track of the chat.jsonl written into it.
type Converter struct {
	out     io.Writer
	start   time.Time
	hasTime bool
	keep    func(Message)
	skip    func(Skipped)

	line    []byte // the partial line so far
	tooLong bool   // the current line passed MaxLine
	n       int    // lines seen
	pending *Message
	err     error // first write error on out
	written int64

	// Limit, when positive, bounds the track's size: cues that would pass
	// it are left out (Truncated), the messages still go to keep.
	Limit     int64
	Truncated bool
	Messages  int
	Cues      int
}

// New returns a Converter writing the track to out. start is the broadcast's
// started_at ("" or unparseable: lines timed by "at" get no cue). keep sees
// every message in file order, timed or not; skip every malformed line.
// Either may be nil.
func New(out io.Writer, startedAt string, keep func(Message), skip func(Skipped)) *Converter {
	c := &Converter{out: out, keep: keep, skip: skip}
	c.start, c.hasTime = parseTime(startedAt)
	c.write("WEBVTT\n")
	return c
}

// Write splits p into lines and converts each complete one. It never fails
// on bad chat: only an error of the track's writer is returned.
func (c *Converter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		chunk := p
		if i >= 0 {
			chunk = p[:i]
		}
		if !c.tooLong && len(c.line)+len(chunk) <= MaxLine {
			c.line = append(c.line, chunk...)
		} else {
			c.tooLong, c.line = true, c.line[:0]
		}
		if i < 0 {
			break
		}
		c.endLine()
		p = p[i+1:]
	}
	return n, c.err
}

// Close converts a last line without a newline and ends the last cue.
func (c *Converter) Close() error {
	if len(c.line) > 0 || c.tooLong {
		c.endLine()
	}
	c.flush(nil)
	return c.err
}

func (c *Converter) endLine() {
	c.n++
	line, tooLong := bytes.TrimSpace(c.line), c.tooLong
	c.line, c.tooLong = c.line[:0], false
	switch {
	case tooLong:
		c.skipped(fmt.Sprintf("longer than %d bytes", MaxLine))
	case len(line) == 0:
	default:
		m, err := c.parse(line)
		if err != nil {
			c.skipped(err.Error())
			return
		}
		c.Messages++
		if c.keep != nil {
			c.keep(m)
		}
		if m.Timed {
			c.flush(&m)
		}
	}
}

func (c *Converter) skipped(reason string) {
	if c.skip != nil {
		c.skip(Skipped{Line: c.n, Reason: reason})
	}
}

// rawLine is what a chat line may hold; fields stay raw so that one of an
// unexpected type makes the line untimed or anonymous, not malformed.
type rawLine struct {
	At       json.RawMessage `json:"at"`
	OffsetMS json.RawMessage `json:"offset_ms"`
	User     json.RawMessage `json:"user"`
	Text     json.RawMessage `json:"text"`
}

func (c *Converter) parse(line []byte) (Message, error) {
	var r rawLine
	if line[0] != '{' {
		return Message{}, fmt.Errorf("not a JSON object")
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return Message{}, fmt.Errorf("not a JSON object: %v", err)
	}
	m := Message{Line: c.n, At: jsonString(r.At), Author: author(r.User)}
	if len(r.Text) > 0 && string(r.Text) != "null" {
		if err := json.Unmarshal(r.Text, &m.Text); err != nil {
			return Message{}, fmt.Errorf(`"text" is not a string`)
		}
	}
	m.Offset, m.Timed = c.offset(r.OffsetMS, m.At)
	return m, nil
}

// offset prefers offset_ms, which is relative to the replay already, over
// at - started_at. Negative, non-finite or absurd values give no time.
func (c *Converter) offset(offsetMS json.RawMessage, at string) (time.Duration, bool) {
	if len(offsetMS) > 0 {
		if ms, err := strconv.ParseFloat(string(offsetMS), 64); err == nil && !math.IsInf(ms, 0) &&
			ms >= 0 && ms <= float64(maxOffset/time.Millisecond) {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	t, ok := parseTime(at)
	if !ok || !c.hasTime {
		return 0, false
	}
	d := t.Sub(c.start)
	return d, d >= 0 && d <= maxOffset
}

// flush writes the pending cue, ending it at next's start (see MinShow,
// MaxShow), and makes next the pending one. WebVTT wants cues in order of
// their start: a message timed before the one above it in chat.jsonl
// shows when that one does (the transcript keeps its own time), which
// keeps the track in order without holding the chat to sort it.
func (c *Converter) flush(next *Message) {
	if p := c.pending; p != nil {
		if next != nil && next.Offset < p.Offset {
			next.Offset = p.Offset
		}
		end := p.Offset + MaxShow
		if next != nil && next.Offset < end {
			end = max(next.Offset, p.Offset+MinShow)
		}
		cue := fmt.Sprintf("\n%s --> %s\n%s\n", timestamp(p.Offset), timestamp(end), cueText(p.Author, p.Text))
		if c.Limit > 0 && c.written+int64(len(cue)) > c.Limit {
			c.Truncated = true
		} else {
			c.write(cue)
			c.Cues++
		}
	}
	c.pending = next
}

func (c *Converter) write(s string) {
	if c.err == nil {
		var n int
		n, c.err = io.WriteString(c.out, s)
		c.written += int64(n)
	}
}

// timestamp formats d as WebVTT's hh:mm:ss.ttt (hours may exceed 99).
func timestamp(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// cueText is a cue's payload: a voice span naming the author (for tools),
// the author's name in bold (players do not show voice names), then the
// text. Escaping &, < and > keeps any "-->" and any markup the users typed
// as plain text; dropping blank lines keeps a message from ending its cue.
// The name is wrapped in FSI..PDI so a right-to-left name cannot reorder
// the text after it.
func cueText(author, text string) string {
	body := escape(text, true)
	if body == "" {
		body = "…"
	}
	if a := escape(author, false); a != "" {
		return "<v " + a + "><b>\u2068" + a + "\u2069</b>: " + body
	}
	return body
}

var cueEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes s safe as cue text. multiline keeps line breaks (never an
// empty line); otherwise, as for a voice's name, every break is a space.
func escape(s string, multiline bool) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			return '\n'
		case r == '\t':
			return ' '
		case r < 0x20 && r != '\n', r == 0x7f:
			return -1
		}
		return r
	}, s)
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, cueEscaper.Replace(l))
		}
	}
	if multiline {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines, " ")
}

func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// jsonString is raw's value if raw is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// author reads "user": a string, or an object with a display name,
// username or id.
func author(raw json.RawMessage) string {
	if s := jsonString(raw); s != "" {
		return s
	}
	var u struct {
		DisplayName string `json:"display_name"`
		Username    string `json:"username"`
		ID          string `json:"id"`
	}
	if json.Unmarshal(raw, &u) != nil {
		return ""
	}
	for _, s := range []string{u.DisplayName, u.Username, u.ID} {
		if s != "" {
			return s
		}
	}
	return ""
}
