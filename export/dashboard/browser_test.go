package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/dashboard"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/browser"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

// TestDashboardInBrowser opens the page in a real Chromium against a live
// export on versitygw and checks every number on it against
// export.ReadStatus, what `status --json` prints.
func TestDashboardInBrowser(t *testing.T) {
	m := newMidExport(t)
	ctx := context.Background()
	col := dashboard.NewCollector(dashboard.Options{Dest: m.dst, Source: m.src, State: m.state})
	if _, err := col.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := export.ReadStatus(ctx, m.dst, m.src)
	if err != nil {
		t.Fatal(err)
	}
	// Shard 1's run has no report until it ends: its users show only in
	// the totals, from their manifests.
	if len(want.Shards) != 1 || want.Failed == 0 || want.WithOmissions == 0 || want.Done <= want.Shards[0].Done || want.Pending == 0 {
		t.Fatalf("state is not mid-export: %+v", want)
	}
	srv := httptest.NewServer(dashboard.Handler(col, nil, nil))
	t.Cleanup(srv.Close)

	b := browser.New(t)
	b.Run(chromedp.Navigate(srv.URL + "/"))
	text := browser.Eval[map[string]string](b, `Object.fromEntries(
		["done","omissions","failed","pending","inflight","bytes","runs","sent","downloads","signups","verify","next"]
		.map(id => [id, document.getElementById(id)?.innerText ?? "MISSING"]))`)
	for id, n := range map[string]string{
		"done": strconv.Itoa(want.Done), "omissions": strconv.Itoa(want.WithOmissions), "failed": strconv.Itoa(want.Failed), "pending": strconv.Itoa(want.Pending),
		"inflight": strconv.Itoa(want.InFlight), "bytes": units.Bytes(want.Bytes), "runs": strconv.Itoa(want.Runs),
		"sent": "3", "downloads": "2",
	} {
		if strings.TrimSpace(text[id]) != n {
			t.Errorf("#%s shows %q, status says %s", id, text[id], n)
		}
	}
	if !strings.HasPrefix(text["signups"], "Blocked since") || !strings.Contains(text["verify"], "proven") {
		t.Errorf("sign-ups: %q / %q", text["signups"], text["verify"])
	}
	if !strings.Contains(text["next"], "Block new sign-ups") {
		t.Errorf("next action: %q", text["next"])
	}
	rows := browser.Eval[[][]string](b, `[...document.querySelectorAll("#shards tr")].slice(1)
		.map(r => [...r.cells].map(c => c.innerText.trim()))`)
	if len(rows) != len(want.Shards) {
		t.Fatalf("shard rows: %v, want %d", rows, len(want.Shards))
	}
	for i, sh := range want.Shards {
		got := strings.Join(rows[i][:4], "|")
		if w := fmt.Sprintf("%d of %d|%d|%d|%d", sh.Index, sh.Count, sh.Users, sh.Done, sh.Failed); got != w {
			t.Errorf("shard row %d: %s, want %s", i, got, w)
		}
	}
	steps := browser.Eval[int](b, `document.querySelectorAll("#runbook tr").length - 1`)
	if steps < 5 {
		t.Errorf("runbook shows %d steps", steps)
	}
	groups := browser.Eval[[][]string](b, `[...document.querySelectorAll("#failures tr")].slice(1)
		.map(r => [...r.cells].map(c => c.innerText.trim()))`)
	total := 0
	for _, g := range groups {
		n, _ := strconv.Atoi(g[0])
		total += n
	}
	if total != len(want.Failures) {
		t.Errorf("failure groups %v add up to %d, status lists %d failures", groups, total, len(want.Failures))
	}
	if n := browser.Eval[int](b, `document.querySelectorAll("svg.chart polyline").length`); n != 1 {
		t.Errorf("%d charts", n)
	}
	if n := browser.Eval[int](b, `document.scripts.length`); n != 0 {
		t.Errorf("the page has %d scripts", n)
	}
	b.Screenshot("dashboard")
	// The same page on a phone: nothing wider than the screen but the
	// tables, which scroll in their own box.
	b.Run(chromedp.EmulateViewport(390, 844))
	if w := browser.Eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("on a 390px phone the page is %dpx wide", w)
	}
	b.Screenshot("dashboard-phone")
	assertNoSecrets(t, srv.URL, m.emails)
}

// assertNoSecrets fetches the page and fails on any address or token.
func assertNoSecrets(t *testing.T, url string, emails []string) {
	t.Helper()
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	for _, e := range append(emails, "help@example.com", "probe@example.com", "ops@example.com", "s3cr3t-probe-token") {
		if strings.Contains(page, e) {
			t.Errorf("the page shows %q", e)
		}
	}
	if strings.Contains(page, "@") {
		i := strings.Index(page, "@")
		t.Errorf("the page holds an @: %q", page[max(i-40, 0):min(i+40, len(page))])
	}
}
