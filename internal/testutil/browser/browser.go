// Package browser drives a real headless Chromium for tests, through the
// DevTools protocol (chromedp): open a page, evaluate JavaScript in it,
// save a screenshot as a test artefact.
//
// Chromium is a hard requirement: a missing browser fails the test with an
// install hint, it never skips, so CI cannot pass without the browser
// tests. Each Browser is its own process with a fresh profile, started
// with every background service off: the machines that run the tests have
// no internet, and nothing a test opens may reach it anyway.
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/syncbuf"
)

// EnvChromium names the environment variable that points at a Chromium
// binary, overriding the search of $PATH.
const EnvChromium = "PERISCOPE_SUNSET_CHROMIUM"

// EnvArtifacts names the environment variable giving the folder that
// screenshots are saved in (default: a temporary folder of the test).
const EnvArtifacts = "PERISCOPE_SUNSET_ARTIFACTS"

// DefaultTimeout bounds each Run.
const DefaultTimeout = 60 * time.Second

// Browser is one headless Chromium with one tab.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab's chromedp context
}

// New starts a headless Chromium that lives until the test ends.
func New(t testing.TB) *Browser {
	t.Helper()
	bin := findChromium(t)
	out := &syncbuf.Buffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1000, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.CombinedOutput(out),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		out.Write(fmt.Appendf(nil, "chromedp: "+format+"\n", args...))
	}))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out)
		}
	})
	// The first action starts the browser; it must not run under a
	// timeout, which would end the whole browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v\n%s", bin, err, out)
	}
	return &Browser{t: t, ctx: ctx}
}

// Run runs actions in the tab, bounded by DefaultTimeout, failing the
// test on an error.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, DefaultTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// Eval evaluates a JavaScript expression in the page (awaiting it when it
// is a promise) and decodes its value into T.
func Eval[T any](b *Browser, expression string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, DefaultTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: evaluate %.80q: %v", expression, err)
	}
	return v
}

// Screenshot saves a PNG of the whole page as <artefacts>/<name>.png and
// returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, DefaultTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	p := filepath.Join(ArtifactsDir(b.t), safeName(b.t.Name()+"-"+name)+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
	return p
}

// ArtifactsDir is the folder named by EnvArtifacts (created if needed),
// or else a temporary folder of the test.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("%s=%s: %v", EnvArtifacts, dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// findChromium looks for EnvChromium, then the usual names on $PATH.
func findChromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", EnvChromium, p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	need.Missing(t, "headless Chromium not found: run scripts/install-deps (Debian's chromium package), or set "+
		EnvChromium+" to a Chromium binary")
	return ""
}
