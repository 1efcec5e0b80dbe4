package chatvtt

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
)

const start = "2017-12-09T19:00:00Z"

func convert(t *testing.T, chat string, limit int64) (string, *Converter, []Message, []Skipped) {
	t.Helper()
	var out bytes.Buffer
	var kept []Message
	var skipped []Skipped
	c := New(&out, start, func(m Message) { kept = append(kept, m) }, func(s Skipped) { skipped = append(skipped, s) })
	c.Limit = limit
	// One byte at a time: lines split across writes must come out whole.
	if _, err := iotestCopy(c, chat); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String(), c, kept, skipped
}

func iotestCopy(c *Converter, s string) (int64, error) {
	var n int64
	r := iotest.OneByteReader(strings.NewReader(s))
	buf := make([]byte, 1)
	for {
		k, err := r.Read(buf)
		if k > 0 {
			c.Write(buf[:k])
			n += int64(k)
		}
		if err != nil {
			return n, nil
		}
	}
}

func TestTrack(t *testing.T) {
	for _, tc := range []struct {
		name, chat, want string
		messages, cues   int
		skipped          []int
	}{
		{
			name: "times from at and offset_ms, ends at the next message or after 4 s",
			chat: `{"at":"2017-12-09T19:00:00.100Z","user":"alice","text":"found it?"}
{"offset_ms":2500,"user":"bob","text":"yes"}
{"at":"2017-12-09T19:00:09Z","user":"carol","text":"late"}
`,
			want: "WEBVTT\n\n00:00:00.100 --> 00:00:02.500\n<v alice><b>\u2068alice\u2069</b>: found it?\n\n" +
				"00:00:02.500 --> 00:00:06.500\n<v bob><b>\u2068bob\u2069</b>: yes\n\n00:00:09.000 --> 00:00:13.000\n<v carol><b>\u2068carol\u2069</b>: late\n",
			messages: 3, cues: 3,
		},
		{
			name: "a burst shows each message at least a second",
			chat: `{"offset_ms":0,"user":"a","text":"1"}
{"offset_ms":100,"user":"b","text":"2"}`,
			want:     "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n<v a><b>\u2068a\u2069</b>: 1\n\n00:00:00.100 --> 00:00:04.100\n<v b><b>\u2068b\u2069</b>: 2\n",
			messages: 2, cues: 2,
		},
		{
			name: "escaping: markup, arrows, ampersands, blank lines, author's own markup",
			chat: `{"offset_ms":3723004,"user":"<b>Eve</b> & co\n","text":"a --> b <script>x</script> & c\n\n\nsecond line\r\n"}`,
			want: "WEBVTT\n\n01:02:03.004 --> 01:02:07.004\n<v &lt;b&gt;Eve&lt;/b&gt; &amp; co><b>\u2068&lt;b&gt;Eve&lt;/b&gt; &amp; co\u2069</b>: " +
				"a --&gt; b &lt;script&gt;x&lt;/script&gt; &amp; c\nsecond line\n",
			messages: 1, cues: 1,
		},
		{
			name: "untimed lines are messages without cues; malformed lines are skipped",
			chat: `{"user":"a","text":"no time"}
{"at":"yesterday","user":"b","text":"bad time"}
{"at":"2017-12-09T18:59:59Z","user":"c","text":"before the start"}
{"offset_ms":-5,"user":"d","text":"negative"}
{"offset_ms":"12","user":"e","text":"offset as a string"}
not json
[1,2]
null
{"offset_ms":1000,"text":7}
{"offset_ms":1000,"user":{"username":"frank"},"text":"object user"}
`,
			want:     "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\n<v frank><b>\u2068frank\u2069</b>: object user\n",
			messages: 6, cues: 1, skipped: []int{6, 7, 8, 9},
		},
		{
			name: "a message timed before the one above it shows with it: cues stay in order",
			chat: `{"offset_ms":5000,"text":"b"}
{"offset_ms":1000,"text":"a"}
{"offset_ms":6000,"text":"c"}`,
			want: "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nb\n\n00:00:05.000 --> 00:00:06.000\na\n\n" +
				"00:00:06.000 --> 00:00:10.000\nc\n",
			messages: 3, cues: 3,
		},
		{
			name:     "empty chat is a valid empty track",
			chat:     "\n\n",
			want:     "WEBVTT\n",
			messages: 0, cues: 0,
		},
		{
			name:     "a line too long is skipped, the next one kept",
			chat:     `{"text":"` + strings.Repeat("x", MaxLine) + `"}` + "\n" + `{"offset_ms":0,"text":"ok"}`,
			want:     "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nok\n",
			messages: 1, cues: 1, skipped: []int{1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, c, kept, skipped := convert(t, tc.chat, 0)
			if got != tc.want {
				t.Errorf("track:\n%s\nwant:\n%s", got, tc.want)
			}
			if c.Messages != tc.messages || len(kept) != tc.messages || c.Cues != tc.cues {
				t.Errorf("messages %d (kept %d), cues %d; want %d, %d", c.Messages, len(kept), c.Cues, tc.messages, tc.cues)
			}
			var lines []int
			for _, s := range skipped {
				lines = append(lines, s.Line)
			}
			if len(lines) != len(tc.skipped) || (len(lines) > 0 && !equal(lines, tc.skipped)) {
				t.Errorf("skipped lines %v (%+v), want %v", lines, skipped, tc.skipped)
			}
		})
	}
}

func TestUntimedWithoutStart(t *testing.T) {
	var out bytes.Buffer
	c := New(&out, "", nil, nil)
	c.Write([]byte(`{"at":"2017-12-09T19:00:01Z","text":"x"}` + "\n" + `{"offset_ms":10,"text":"y"}`))
	c.Close()
	if c.Messages != 2 || c.Cues != 1 || !strings.Contains(out.String(), "00:00:00.010 --> ") {
		t.Errorf("messages %d, cues %d:\n%s", c.Messages, c.Cues, out.String())
	}
}

func TestLimitDropsCuesNotMessages(t *testing.T) {
	var chat strings.Builder
	for i := range 100 {
		fmt.Fprintf(&chat, `{"offset_ms":%d,"text":"message"}`+"\n", i*1000)
	}
	got, c, kept, _ := convert(t, chat.String(), 200)
	if !c.Truncated || len(got) > 200 || c.Cues == 0 || c.Cues >= 100 || len(kept) != 100 {
		t.Errorf("truncated %v, %d bytes, %d cues, %d messages", c.Truncated, len(got), c.Cues, len(kept))
	}
}

func equal(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// FuzzTrack feeds arbitrary chat.jsonl through the converter: it never
// fails on bad chat, and whatever the users typed, the track stays a
// sequence of well-formed cues: a timing line, then text lines that are
// never empty, hold no "-->" and only the markup the converter writes.
func FuzzTrack(f *testing.F) {
	f.Add(`{"at":"2017-12-09T19:00:01Z","user":"a","text":"x"}` + "\n" + `{"offset_ms":5,"user":"<v b>","text":"--> \n\n <c>&amp;"}`)
	f.Add(`{"offset_ms":1e300,"text":"big"}` + "\n" + `{"offset_ms":-0,"user":{"id":"\u2028"},"text":"\r\r"}`)
	f.Add(`{"offset_ms":9000}` + "\n" + `{"offset_ms":3}` + "\n" + `{"offset_ms":3,"text":""}` + "\n" + `{"offset_ms":99999999999}`)
	f.Fuzz(func(t *testing.T, chat string) {
		var out bytes.Buffer
		c := New(&out, start, nil, nil)
		if _, err := c.Write([]byte(chat)); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split(out.String(), "\n\n")
		if blocks[0] != "WEBVTT" && blocks[0] != "WEBVTT\n" {
			t.Fatalf("header %q", blocks[0])
		}
		if len(blocks)-1 != c.Cues {
			t.Fatalf("%d blocks, %d cues:\n%s", len(blocks)-1, c.Cues, out.String())
		}
		last := ""
		for _, b := range blocks[1:] {
			lines := strings.Split(strings.TrimSuffix(b, "\n"), "\n")
			if len(lines) < 2 || !timing.MatchString(lines[0]) {
				t.Fatalf("cue %q", b)
			}
			from, to, _ := strings.Cut(lines[0], " --> ")
			if len(from) < len(last) || (len(from) == len(last) && from < last) || len(to) < len(from) || (len(to) == len(from) && to <= from) {
				t.Fatalf("cue %q after one starting %s: out of order or empty", lines[0], last)
			}
			last = from
			for _, l := range lines[1:] {
				stripped := voiceTags.ReplaceAllString(l, "")
				if strings.TrimSpace(l) == "" || strings.Contains(l, "-->") || strings.ContainsAny(stripped, "<>") {
					t.Fatalf("cue text line %q in %q", l, b)
				}
			}
		}
	})
}

var (
	timing    = regexp.MustCompile(`^\d{2,}:\d{2}:\d{2}\.\d{3} --> \d{2,}:\d{2}:\d{2}\.\d{3}$`)
	voiceTags = regexp.MustCompile(`^<v [^<>]+><b>\x{2068}[^<>]+\x{2069}</b>: `)
)
