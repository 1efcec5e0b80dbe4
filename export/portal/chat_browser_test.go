package portal

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/browser"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
)

// TestViewerChatInBrowser opens extracted exports from disk in a real
// Chromium, with the page's own Content-Security-Policy in force: every
// <video> of a broadcast with a chat has a caption track that loads and
// holds one cue per timed message, every piece of user text is
// direction-isolated, and a replay whose broadcast.json lacks ended_at
// shows the duration read from the MP4. Heidi's broadcast is given an
// Arabic title, Arabic chat authors and no ended_at; Alice's HLS replay is
// remuxed, so its chat plays over an MP4 too. One of zoe-aero's broadcasts
// has no broadcast.json: the page says it was left out, and why.
func TestViewerChatInBrowser(t *testing.T) {
	ffmpeg := need.Program(t, "scripts/install-deps (Debian's ffmpeg)", "ffmpeg")
	srcDir := rtlSample(t)
	src, err := blob.NewFile(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := blob.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := export.Run(context.Background(), src, dst, export.Options{FFmpeg: ffmpeg, Remux: export.RemuxRequire}); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"alice", "grace-h", "heidi", "dave42", "zoe-aero"} {
		t.Run(user, func(t *testing.T) {
			dir := extractExport(t, dst, user)
			var index []export.Broadcast
			raw, err := os.ReadFile(filepath.Join(dir, "data", "broadcasts.json"))
			if err != nil || json.Unmarshal(raw, &index) != nil {
				t.Fatalf("data/broadcasts.json: %v\n%s", err, raw)
			}
			b := browser.New(t)
			b.Run(chromedp.Navigate((&url.URL{Scheme: "file", Path: filepath.Join(dir, "index.html")}).String()))
			tracks := browser.Eval[map[string]trackState](b, loadTracks)
			withChat := 0
			for _, bc := range index {
				if bc.ChatCues == 0 {
					continue
				}
				withChat++
				got, ok := tracks["b-"+bc.ID]
				t.Logf("broadcast %s: %d chat messages, %d cues in chat.vtt, %d cues loaded (track readyState %d)",
					bc.ID, bc.ChatMessages, bc.ChatCues, got.Cues, got.ReadyState)
				if !ok || got.ReadyState != 2 || got.Cues != bc.ChatCues || got.Kind != "captions" || got.Label != "Chat" {
					t.Errorf("broadcast %s: track %+v (present %v), want loaded (2) with %d cues", bc.ID, got, ok, bc.ChatCues)
				}
				if got.Summary == "" || !strings.Contains(got.Summary, "messages") {
					t.Errorf("broadcast %s: no chat transcript summary: %q", bc.ID, got.Summary)
				}
			}
			if withChat == 0 && user != "heidi" {
				t.Fatalf("no broadcast of %s has a chat", user)
			}
			page := browser.Eval[struct {
				Scripts int
				CSP     string
			}](b, `({scripts: document.scripts.length, csp: (document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || ""})`)
			if page.Scripts != 0 || !strings.Contains(page.CSP, "default-src 'none'") || strings.Contains(page.CSP, "script-src") {
				t.Errorf("the page must hold no script and forbid every one: %+v", page)
			}
			iso := browser.Eval[isolation](b, checkIsolation)
			if iso.Body != "ltr" || iso.H1Bdi != 1 || iso.TitlesAuto != len(index) || iso.Authors != iso.Messages {
				t.Errorf("direction isolation: %+v (%d broadcasts)", iso, len(index))
			}
			if user == "heidi" {
				checkHeidi(t, b, index, iso)
			}
			omitted := browser.Eval[string](b, `(document.getElementById("omitted") || {}).innerText || ""`)
			if wantOmitted := user == "zoe-aero"; wantOmitted != strings.Contains(omitted, "1djGXrEQMnPGL") {
				t.Errorf("omissions on the page: %q (want one: %v)", omitted, wantOmitted)
			}
			b.Run(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.chat").forEach(d => d.open = true)`))
			browser.Eval[bool](b, seekForCues)
			b.Screenshot("chat")
		})
	}
}

// checkHeidi: an Arabic title and authors resolve right-to-left inside
// their own boxes while the page stays left-to-right, and the duration
// missing from broadcast.json is on the page, read from the replay.
func checkHeidi(t *testing.T, b *browser.Browser, index []export.Broadcast, iso isolation) {
	t.Helper()
	if len(index) != 1 || index[0].DurationFrom != "media" || !(index[0].DurationSeconds > 1.5) {
		t.Fatalf("heidi's broadcast: %+v, want a duration from the media", index)
	}
	if iso.RTLTitles != 1 || iso.RTLAuthors < 1 {
		t.Errorf("Arabic title/authors not resolved right-to-left in isolation: %+v", iso)
	}
	meta := browser.Eval[string](b, `document.querySelector("article .meta").innerText`)
	if !strings.Contains(meta, "0:02") || strings.Contains(meta, "unknown") {
		t.Errorf("duration on the page: %q, want 0:02", meta)
	}
}

type trackState struct {
	Kind, Label, Summary string
	ReadyState, Cues     int
}

type isolation struct {
	Body                  string
	H1Bdi, TitlesAuto     int
	Messages, Authors     int
	RTLTitles, RTLAuthors int
}

// loadTracks shows every caption track (a hidden or disabled track loads
// no cues) and waits for each to load or fail, bounded by the browser
// timeout.
const loadTracks = `Promise.all([...document.querySelectorAll("video")].map(v => new Promise(resolve => {
	const el = v.querySelector("track");
	const a = v.closest("article");
	const sum = a.querySelector("details.chat summary");
	const done = () => resolve([a.id, {kind: el.kind, label: el.label, summary: sum ? sum.innerText : "",
		readyState: el.readyState, cues: el.track.cues ? el.track.cues.length : -1}]);
	if (!el) return resolve([a.id, {readyState: -1, cues: -1}]);
	el.track.mode = "showing";
	if (el.readyState >= 2) return done();
	el.addEventListener("load", done, {once: true});
	el.addEventListener("error", done, {once: true});
}))).then(Object.fromEntries)`

const checkIsolation = `(() => {
	const rtl = el => el.matches(":dir(rtl)");
	const titles = [...document.querySelectorAll("article h2")];
	const authors = [...document.querySelectorAll("details.chat li bdi.who")];
	return {
		body: getComputedStyle(document.body).direction,
		h1Bdi: document.querySelectorAll("h1 bdi").length,
		titlesAuto: titles.filter(h => h.dir === "auto").length,
		messages: document.querySelectorAll("details.chat li").length,
		authors: authors.length,
		rtlTitles: titles.filter(rtl).length,
		rtlAuthors: authors.filter(rtl).length,
	};
})()`

// seekForCues puts every video where its first cue shows, for the
// screenshot.
const seekForCues = `Promise.all([...document.querySelectorAll("video")].map(v => new Promise(resolve => {
	const cues = v.textTracks[0] && v.textTracks[0].cues;
	if (!cues || !cues.length) return resolve(false);
	v.addEventListener("seeked", () => resolve(true), {once: true});
	v.currentTime = cues[0].startTime + 0.05;
}))).then(() => true)`

// rtlSample copies the sample and makes heidi's broadcast right-to-left,
// chatty and without ended_at.
func rtlSample(t *testing.T) string {
	t.Helper()
	p, err := fixtures.SamplePath()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "src")
	if err := os.CopyFS(dir, os.DirFS(p)); err != nil {
		t.Fatal(err)
	}
	// One of zoe-aero's broadcasts is broken: omitted, and said so.
	if err := os.Remove(filepath.Join(dir, "broadcasts", "zoe-aero", "1djGXrEQMnPGL", "broadcast.json")); err != nil {
		t.Fatal(err)
	}
	heidi := filepath.Join(dir, "broadcasts", "heidi", "1hEiDiAlPsZzA")
	for name, body := range map[string]string{
		"broadcast.json": `{"id":"1hEiDiAlPsZzA","user_id":"heidi","title":"رحلة جبلية (Alpine hike)","started_at":"2018-02-14T14:14:00Z","viewers":64}`,
		"chat.jsonl": `{"at":"2018-02-14T14:14:00.200Z","user":"هايدي","text":"مرحبا بالجميع! welcome"}
{"offset_ms":900,"user":"שרה","text":"שלום 👋"}
{"user":"alice","text":"(no time: transcript only)"}
not json at all
{"offset_ms":1500,"user":"alice","text":"<b>bold?</b> --> no"}
`,
	} {
		if err := os.WriteFile(filepath.Join(heidi, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
