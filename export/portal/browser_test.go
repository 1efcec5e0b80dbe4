package portal

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/browser"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
)

// TestViewerInBrowser opens the offline viewer of extracted exports from
// disk in a real Chromium: every broadcast of data/broadcasts.json is on
// the page, and every MP4 replay loads in its <video> with a duration.
// Alice's HLS replay is checked both as exported without ffmpeg (listed
// with a note) and remuxed into an MP4 (plays like the others).
func TestViewerInBrowser(t *testing.T) {
	ffmpeg := need.Program(t, "scripts/install-deps (Debian's ffmpeg)", "ffmpeg")
	plain := localExport(t, export.Options{})
	remuxed := localExport(t, export.Options{FFmpeg: ffmpeg, Remux: export.RemuxRequire})
	for _, c := range []struct {
		name, user string
		dst        blob.Store
		allMP4     bool
	}{
		{"alice", "alice", plain, false},
		{"alice-remuxed", "alice", remuxed, true},
		{"zoe-aero", "zoe-aero", plain, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := browser.New(t)
			dir := extractExport(t, c.dst, c.user)
			var index []export.Broadcast
			raw, err := os.ReadFile(filepath.Join(dir, "data", "broadcasts.json"))
			if err != nil || json.Unmarshal(raw, &index) != nil || len(index) == 0 {
				t.Fatalf("data/broadcasts.json: %v\n%s", err, raw)
			}
			page := (&url.URL{Scheme: "file", Path: filepath.Join(dir, "index.html")}).String()
			b.Run(chromedp.Navigate(page))

			listed := browser.Eval[map[string]string](b, `Object.fromEntries(
				[...document.querySelectorAll("article.broadcast")].map(a => [a.id, a.innerText]))`)
			mp4 := 0
			for _, bc := range index {
				text, ok := listed["b-"+bc.ID]
				if !ok {
					t.Errorf("broadcast %s (%q) is not listed on the page", bc.ID, bc.Title)
					continue
				}
				if bc.Title != "" && !strings.Contains(text, bc.Title) {
					t.Errorf("broadcast %s: title %q not shown in %q", bc.ID, bc.Title, text)
				}
				switch bc.ReplayFormat {
				case "mp4":
					mp4++
				case "hls":
					if !strings.Contains(text, "HLS") {
						t.Errorf("broadcast %s: HLS replay without its note: %q", bc.ID, text)
					}
				}
			}
			if len(listed) != len(index) {
				t.Errorf("page lists %d broadcasts, broadcasts.json %d", len(listed), len(index))
			}
			if c.allMP4 && mp4 != len(index) {
				t.Errorf("%d of %d replays are MP4, want all", mp4, len(index))
			}
			videos := browser.Eval[[]videoState](b, waitForVideos)
			if len(videos) != mp4 || mp4 == 0 {
				t.Fatalf("%d <video> elements, %d MP4 replays in broadcasts.json", len(videos), mp4)
			}
			for _, v := range videos {
				t.Logf("%s: readyState %d, duration %.2fs", v.Src, v.ReadyState, v.Duration)
				if v.ReadyState < 1 || !(v.Duration > 0) {
					t.Errorf("%s did not load: readyState %d, duration %v", v.Src, v.ReadyState, v.Duration)
				}
			}
			// Metadata proves the file parses; playing proves it decodes.
			for _, v := range browser.Eval[[]videoState](b, playVideos) {
				if !(v.CurrentTime > 0) {
					t.Errorf("%s did not play: currentTime %v", v.Src, v.CurrentTime)
				}
			}
			b.Run(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("video").forEach(v => { v.pause(); v.currentTime = 0.5; })`))
			b.Screenshot("viewer")
		})
	}
}

type videoState struct {
	Src         string  `json:"src"`
	Duration    float64 `json:"duration"`
	ReadyState  int     `json:"readyState"`
	CurrentTime float64 `json:"currentTime"`
}

// playVideos plays every <video> (muted) until its clock has moved, and
// rejects on a media error or a video stuck for 20 seconds.
const playVideos = `Promise.all([...document.querySelectorAll("video")].map(v => new Promise((resolve, reject) => {
	const state = () => ({src: v.currentSrc, duration: v.duration, readyState: v.readyState, currentTime: v.currentTime});
	const timer = setTimeout(() => reject(new Error("video " + v.currentSrc + " did not play: " + JSON.stringify(state()))), 20000);
	const check = () => { if (v.currentTime > 0) { clearTimeout(timer); v.pause(); resolve(state()); } };
	v.addEventListener("timeupdate", check);
	v.addEventListener("error", () => reject(new Error("video " + v.currentSrc + ": media error " + (v.error && v.error.code))), {once: true});
	v.muted = true;
	v.play().catch(reject);
})))`

// waitForVideos resolves once every <video> has its metadata (duration,
// size) loaded, and rejects on a media error.
const waitForVideos = `Promise.all([...document.querySelectorAll("video")].map(v => new Promise((resolve, reject) => {
	const done = () => resolve({src: v.currentSrc || v.src, duration: v.duration, readyState: v.readyState});
	const fail = () => reject(new Error("video " + v.src + ": media error " + (v.error && v.error.code) + " " + (v.error && v.error.message)));
	if (v.error) return fail();
	if (v.readyState >= 1) return done();
	v.addEventListener("loadedmetadata", done, {once: true});
	v.addEventListener("error", fail, {once: true});
	v.load();
})))`

// TestPortalPageInBrowser opens a user's portal page, served on loopback,
// in a real Chromium: the display name, the broadcast count and every
// part link are shown, and the inline style is allowed by the page's own
// Content-Security-Policy.
func TestPortalPageInBrowser(t *testing.T) {
	dst := localExport(t, export.Options{MaxPartSize: 40 << 10})
	srv := startPortal(t, dst, Options{})
	b := browser.New(t)
	const user, name = "zoe-aero", "Zoë Ærø 🎥 テスト"
	m := manifest(t, dst, user)
	if len(m.Parts) < 2 {
		t.Fatalf("want several parts, got %d", len(m.Parts))
	}
	b.Run(chromedp.Navigate(userURL(srv, user, validToken(t, user))))
	got := browser.Eval[struct {
		H1, Count, Collapse string
		Parts               []struct{ Href, Text string }
	}](b, `({
		h1: document.querySelector("h1").innerText,
		count: document.querySelector("#broadcast-count").innerText,
		collapse: getComputedStyle(document.querySelector("table")).borderCollapse,
		parts: [...document.querySelectorAll("a.part")].map(a => ({href: a.href, text: a.innerText})),
	})`)
	if !strings.Contains(got.H1, name) {
		t.Errorf("heading %q does not show %q", got.H1, name)
	}
	if got.Count != fmt.Sprint(m.Broadcasts) {
		t.Errorf("broadcast count %q, want %d", got.Count, m.Broadcasts)
	}
	if got.Collapse != "collapse" {
		t.Errorf("the page's style was not applied (border-collapse %q): blocked by its CSP?", got.Collapse)
	}
	if len(got.Parts) != len(m.Parts) {
		t.Fatalf("%d part links, want %d: %+v", len(got.Parts), len(m.Parts), got.Parts)
	}
	for i, p := range got.Parts {
		want := fmt.Sprintf("%s/u/%s/parts/%d?token=", srv.URL, user, i+1)
		if p.Text != path.Base(m.Parts[i].Key) || !strings.HasPrefix(p.Href, want) {
			t.Errorf("part link %d: %q -> %s, want %s -> %s...", i+1, p.Text, p.Href, path.Base(m.Parts[i].Key), want)
		}
		if r := get(t, p.Href); r.status != 200 || sha256Hex(r.body) != m.Parts[i].SHA256 {
			t.Errorf("part link %d: status %d, sha256 %s", i+1, r.status, sha256Hex(r.body))
		}
	}
	b.Screenshot("portal-" + user)
}

// extractExport unzips every part of a user's export into one folder, as
// the user is told to, and returns the folder.
func extractExport(t *testing.T, dst blob.Store, user string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), user)
	for _, p := range manifest(t, dst, user).Parts {
		ra, err := dst.Open(context.Background(), p.Key)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(ra, ra.Size())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if !filepath.IsLocal(f.Name) || strings.HasSuffix(f.Name, "/") {
				continue
			}
			extractFile(t, f, filepath.Join(dir, filepath.FromSlash(f.Name)))
		}
		ra.Close()
	}
	return dir
}

func extractFile(t *testing.T, f *zip.File, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, rc); err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
}
