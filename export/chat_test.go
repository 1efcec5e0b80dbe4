package export

import (
	"bytes"
	"encoding/json"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestChatTrackAndMediaDuration exports a sample whose heidi broadcast has
// no ended_at and a chat with every kind of line, whose grace-h chat is
// the sample's, and whose bob broadcast already has a chat.vtt of its own.
// Each chat becomes a chat.vtt listed in the bag; bad lines cost only
// themselves; the duration missing from broadcast.json comes from the MP4.
func TestChatTrackAndMediaDuration(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	heidi := filepath.Join(srcDir, "broadcasts", "heidi", "1hEiDiAlPsZzA")
	writeFile(t, filepath.Join(heidi, "broadcast.json"),
		`{"id":"1hEiDiAlPsZzA","user_id":"heidi","title":"رحلة جبلية","started_at":"2018-02-14T14:14:00Z","viewers":64}`)
	writeFile(t, filepath.Join(heidi, "chat.jsonl"), strings.Join([]string{
		`{"at":"2018-02-14T14:14:00.500Z","user":"هايدي","text":"مرحبا --> <b>&</b>"}`,
		`{"offset_ms":1200,"user":"alice","text":"hello"}`,
		`{"user":"bob","text":"no time at all"}`,
		`{"at":"2018-02-14T14:13:00Z","user":"carol","text":"before the start"}`,
		`this line is not JSON`,
		`{"offset_ms":1500,"user":"dave","text":{"not":"a string"}}`,
		`{"offset_ms":1600,"user":"eve","text":"last"}`,
	}, "\n"))
	bob := filepath.Join(srcDir, "broadcasts", "bob_1", "1OwGWmqdEDvxB")
	writeFile(t, filepath.Join(bob, "chat.jsonl"), `{"offset_ms":0,"text":"hi"}`+"\n")
	writeFile(t, filepath.Join(bob, "chat.vtt"), "WEBVTT\n\nthe user's own file\n")

	// Escaping makes this track five times its chat: past its bound.
	frank := filepath.Join(srcDir, "broadcasts", "frank", "1AbCdEfGhIjKl")
	writeFile(t, filepath.Join(frank, "chat.jsonl"), `{"offset_ms":0,"text":"first"}`+"\n"+
		`{"offset_ms":1000,"text":"`+strings.Repeat("&", 20000)+`"}`+"\n")

	rep := runExport(t, fileStore(t, srcDir), fileStore(t, dstDir), Options{})
	if rep.Users.Failed != 0 {
		t.Fatalf("failed users: %v", rep.Failures)
	}
	var warnings []string
	for _, w := range rep.Warnings {
		warnings = append(warnings, w.User+": "+w.Reason)
	}
	for _, want := range []string{"heidi: broadcast 1hEiDiAlPsZzA: chat.jsonl line 5 skipped",
		"heidi: broadcast 1hEiDiAlPsZzA: chat.jsonl line 6 skipped", "bob_1: broadcast 1OwGWmqdEDvxB: the source has its own chat.vtt",
		"frank: broadcast 1AbCdEfGhIjKl: chat.vtt holds the cues of its first"} {
		if !containsPrefix(warnings, want) {
			t.Errorf("no warning %q in %q", want, warnings)
		}
	}

	bag := extractExport(t, fileStore(t, dstDir), "heidi")
	b := onlyBroadcast(t, bag)
	if b.DurationFrom != "media" || b.DurationSeconds < 1.9 || b.DurationSeconds > 2.1 {
		t.Errorf("duration %v from %q, want about 2 s from the media", b.DurationSeconds, b.DurationFrom)
	}
	if b.ChatMessages != 5 || b.ChatCues != 3 || b.ChatTrack != "data/broadcasts/1hEiDiAlPsZzA/chat.vtt" {
		t.Errorf("chat: %d messages, %d cues, track %q; want 5, 3", b.ChatMessages, b.ChatCues, b.ChatTrack)
	}
	vtt := readFile(t, filepath.Join(bag, filepath.FromSlash(b.ChatTrack)))
	want := "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\n<v هايدي><b>\u2068هايدي\u2069</b>: مرحبا --&gt; &lt;b&gt;&amp;&lt;/b&gt;\n\n" +
		"00:00:01.200 --> 00:00:02.200\n<v alice><b>\u2068alice\u2069</b>: hello\n\n00:00:01.600 --> 00:00:05.600\n<v eve><b>\u2068eve\u2069</b>: last\n"
	if vtt != want {
		t.Errorf("chat.vtt:\n%s\nwant:\n%s", vtt, want)
	}
	checkTrackWithFFmpeg(t, filepath.Join(bag, filepath.FromSlash(b.ChatTrack)), b.ChatCues)
	if sums := readFile(t, filepath.Join(bag, manifestTxt)); !strings.Contains(sums, "  "+b.ChatTrack+"\n") {
		t.Errorf("%s does not list %s:\n%s", manifestTxt, b.ChatTrack, sums)
	}
	page := readFile(t, filepath.Join(bag, viewerHTML))
	for _, want := range []string{
		`<track kind="captions" label="Chat" srclang="und" src="data:text/vtt;charset=utf-8;base64,`,
		`<summary>Chat (5 messages)</summary>`, `<h2 dir="auto">رحلة جبلية</h2>`,
		`<bdi class="who">bob</bdi><bdi class="text">no time at all</bdi>`,
		`<bdi class="text">مرحبا --&gt; &lt;b&gt;&amp;&lt;/b&gt;</bdi>`, "0:02", "Content-Security-Policy",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(page, "duration unknown") {
		t.Errorf("index.html says duration unknown")
	}

	if f := onlyBroadcast(t, extractExport(t, fileStore(t, dstDir), "frank")); f.ChatMessages != 2 || f.ChatCues != 1 {
		t.Errorf("frank's chat: %d messages, %d cues; want 2, 1 (the long one past the bound)", f.ChatMessages, f.ChatCues)
	}

	bobBag := extractExport(t, fileStore(t, dstDir), "bob_1")
	if got := readFile(t, filepath.Join(bobBag, "data", "broadcasts", "1OwGWmqdEDvxB", "chat.vtt")); got != "WEBVTT\n\nthe user's own file\n" {
		t.Errorf("the source's own chat.vtt was replaced: %q", got)
	}
}

// TestDurationOfHLSReplay: an HLS replay kept as HLS, whose broadcast.json
// has no ended_at, gets the duration its playlist adds up to.
func TestDurationOfHLSReplay(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	const id = "1YqKDoNRgZexV"
	writeFile(t, filepath.Join(srcDir, "broadcasts", "alice", id, "broadcast.json"),
		`{"id":"`+id+`","user_id":"alice","title":"Sunset timelapse (HLS replay)","started_at":"2016-07-21T20:45:00Z"}`)
	if rep := runExport(t, fileStore(t, srcDir), fileStore(t, dstDir), Options{Only: map[string]bool{"alice": true}}); rep.Users.Failed != 0 {
		t.Fatalf("failed users: %v", rep.Failures)
	}
	var bs []Broadcast
	bag := extractExport(t, fileStore(t, dstDir), "alice")
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(bag, "data", "broadcasts.json"))), &bs); err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.ID == id && (b.ReplayFormat != "hls" || b.DurationFrom != "media" || b.DurationSeconds < 2.9 || b.DurationSeconds > 3.1) {
			t.Errorf("HLS broadcast: %s replay, duration %v from %q; want about 3 s from the media", b.ReplayFormat, b.DurationSeconds, b.DurationFrom)
		}
	}
}

// checkTrackWithFFmpeg has ffmpeg's WebVTT reader, another implementation
// than the browsers', convert the track to SubRip and counts the cues.
func checkTrackWithFFmpeg(t *testing.T, vtt string, cues int) {
	t.Helper()
	ffmpeg := need.Program(t, "scripts/install-deps (Debian's ffmpeg)", "ffmpeg")
	out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", vtt, "-f", "srt", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg cannot read %s: %v", vtt, err)
	}
	if n := len(srtTiming.FindAll(out, -1)); n != cues {
		t.Errorf("ffmpeg reads %d cues in %s, want %d:\n%s", n, vtt, cues, out)
	}
}

var srtTiming = regexp.MustCompile(`(?m)^\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}$`)

func onlyBroadcast(t *testing.T, bag string) Broadcast {
	t.Helper()
	var bs []Broadcast
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(bag, "data", "broadcasts.json"))), &bs); err != nil || len(bs) != 1 {
		t.Fatalf("broadcasts.json: %v, %d broadcasts", err, len(bs))
	}
	return bs[0]
}

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestViewerLinksTrackItCannotInline: a track too big for the page is
// linked by its bag path, with a note saying where else to watch it.
func TestViewerLinksTrackItCannotInline(t *testing.T) {
	b := &Broadcast{ID: "b1", Replay: "data/broadcasts/b1/replay.mp4", ReplayFormat: "mp4",
		Chat: "data/broadcasts/b1/chat.jsonl", ChatTrack: "data/broadcasts/b1/chat.vtt", ChatMessages: 9, ChatCues: 9,
		chat: &chatTranscript{Hidden: 9}}
	page := render(t, b)
	for _, want := range []string{`<track kind="captions" label="Chat" srclang="und" src="data/broadcasts/b1/chat.vtt" default>`,
		"too long to show over the replay", "9 more messages are only in the chat file"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks %q:\n%s", want, page)
		}
	}
	b.chat.Track = []byte("WEBVTT\n")
	if page := render(t, b); strings.Contains(string(page), "too long") ||
		!strings.Contains(string(page), `src="data:text/vtt;charset=utf-8;base64,V0VCVlRUCg=="`) {
		t.Errorf("an inlined track: %s", page)
	}
}

func render(t *testing.T, bs ...*Broadcast) []byte {
	t.Helper()
	var page bytes.Buffer
	if err := viewerTemplate.Execute(&page, viewerData{User: User{ID: "u"}, Name: "u", Broadcasts: bs}); err != nil {
		t.Fatal(err)
	}
	return page.Bytes()
}

// TestViewerSaysWhatWasOmitted: a broadcast left out is named at the top
// of the page, with its reason, direction-isolated like all source text.
func TestViewerSaysWhatWasOmitted(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	if err := os.Remove(filepath.Join(srcDir, "broadcasts", "alice", "1MnGnPQdrZaKO", "broadcast.json")); err != nil {
		t.Fatal(err)
	}
	runExport(t, fileStore(t, srcDir), fileStore(t, dstDir), Options{Only: map[string]bool{"alice": true}})
	page := readFile(t, filepath.Join(extractExport(t, fileStore(t, dstDir), "alice"), viewerHTML))
	for _, want := range []string{`<div class="note" id="omitted">`, "1 item of your archive could not be included safely",
		`<a href="data/omitted.json">`, "(broadcast <code>1MnGnPQdrZaKO</code>): <bdi>"} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}
