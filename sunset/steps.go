package sunset

import (
	"fmt"
	"strings"
	"time"
)

// Step names, in the order the runbook lists and runs them.
const (
	StepSignupsBlocked    = "signups-blocked"
	StepAnnouncement      = "announcement"
	StepDelistApple       = "delist-apple"
	StepDelistGoogle      = "delist-google"
	StepReadOnly          = "read-only"
	StepExportWindowOpen  = "export-window-open"
	StepExportWindowClose = "export-window-close"
)

// Step kinds: an auto step is done by the tick; a manual one is opened by
// the tick, which prints what to do, and closed by `runbook confirm`.
const (
	KindAuto   = "auto"
	KindManual = "manual"
)

// stepDef is one milestone of the runbook.
type stepDef struct {
	name, title, kind string
	days              int    // default offset from the delisting date, in calendar days
	summary           string // one line (two at most) for help texts
	store             string // for delisting steps: the store that must be scheduled
	instructions      string // what a person does for a manual step
}

// DefaultOffsets documents the default schedule, relative to the
// delisting date D, for help texts: one line per step, made from the step
// definitions themselves so the help cannot drift from what runs.
func DefaultOffsets() string {
	var b strings.Builder
	for i, d := range stepDefs() {
		if i > 0 {
			b.WriteByte('\n')
		}
		summary := strings.ReplaceAll(d.summary, "\n", "\n"+strings.Repeat(" ", 28))
		fmt.Fprintf(&b, "%-20s %-6s %s", d.name, offsetLabel(d.days), summary)
	}
	return b.String()
}

// offsetLabel writes a day offset from D: D-30d, D, D+7d.
func offsetLabel(days int) string {
	switch {
	case days == 0:
		return "D"
	case days < 0:
		return fmt.Sprintf("D%dd", days)
	default:
		return fmt.Sprintf("D+%dd", days)
	}
}

func stepDefs() []stepDef {
	return []stepDef{
		{name: StepSignupsBlocked, title: "Block new sign-ups", kind: KindAuto, days: -30,
			summary: "sign-ups refused (the flag is set by the tick)"},
		{name: StepAnnouncement, title: "Announce the shutdown", kind: KindManual, days: -29,
			summary: "publish the shutdown notice (manual; a day after sign-ups close,\n" +
				"so the notice brings no rush of new accounts)",
			instructions: "Publish the shutdown announcement (blog post, in-app banner, email to users) naming\n" +
				"the delisting date, the read-only date and the export window, and link it from the\n" +
				"sign-up flag's info URL. Confirm with the announcement's URL as evidence."},
		{name: StepDelistApple, title: "Remove the app from the App Store", kind: KindAuto, days: 0, store: "apple",
			summary: "app made unavailable in every App Store territory (App Store Connect API)"},
		{name: StepDelistGoogle, title: "Unpublish the app on Google Play", kind: KindManual, days: 0, store: "google",
			summary: "app unpublished in the Play Console (manual: Google has no API for it)",
			instructions: "The Google Play Developer API cannot unpublish an app; do it in the Play Console:\n" +
				"  1. Open https://play.google.com/console and select the app.\n" +
				"  2. Go to Test and release > Setup > Advanced settings (older consoles: Release > Setup >\n" +
				"     Advanced settings).\n" +
				"  3. On the App availability tab choose Unpublish, then Save.\n" +
				"  4. On Publishing overview, send the change for review if managed publishing is on,\n" +
				"     and wait until the app shows as Unpublished.\n" +
				"Confirm with evidence: who did it, when, and a screenshot or ticket link."},
		{name: StepReadOnly, title: "Make the service read-only", kind: KindAuto, days: 0,
			summary: "the gate refuses POST/PUT/PATCH/DELETE, so the export sees a frozen archive"},
		{name: StepExportWindowOpen, title: "Open the export window", kind: KindManual, days: 7,
			summary: "exports run, verified and mailed (manual; a week to run and check them)",
			instructions: "Run the export (periscope-sunset export ...), check it with periscope-sunset verify,\n" +
				"and mail every user their download link. Confirm with the export run id as evidence."},
		{name: StepExportWindowClose, title: "Close the export window", kind: KindManual, days: 97,
			summary: "download links stop after a 90-day window; purge deletes the exports (manual)",
			instructions: "The export window ends: take the download portal down, then delete the exports with\n" +
				"  periscope-sunset purge --dest DST --yes --state STATE   (--dry-run first to see what goes)\n" +
				"which records its run in the audit log. Confirm with the purge run id as evidence."},
	}
}

func findStep(name string) (stepDef, bool) {
	for _, d := range stepDefs() {
		if d.name == name {
			return d, true
		}
	}
	return stepDef{}, false
}

// Instructions returns what a person does for a manual step ("" for an
// automatic one).
func Instructions(step string) string {
	d, _ := findStep(step)
	return d.instructions
}

// due adds days to at in its own zone, so that midnight stays midnight
// across a daylight-saving change.
func due(at time.Time, days int) time.Time { return at.AddDate(0, 0, days).UTC() }
