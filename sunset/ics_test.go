package sunset

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/icstest"
)

func TestCalendarParses(t *testing.T) {
	ctx := context.Background()
	st, _ := blob.NewFile(t.TempDir())
	clk := newClock(delistDay.Add(time.Hour))
	s := Open(st, clk.opts("ana"))
	p := schedule(t, s, "apple", "google")
	if _, err := s.Tick(ctx, TickOptions{Apple: &countingDelister{}}); err != nil {
		t.Fatal(err)
	}
	// Evidence with every character TEXT must escape, and long non-ASCII
	// text that must fold between characters, not inside one.
	if _, err := s.Confirm(ctx, StepDelistGoogle, `unpublished; ticket OPS-42, see C:\shots, "ok"`+"\n"+strings.Repeat("é✓", 60)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Calendar(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	cal, err := icstest.Parse(buf.Bytes())
	if err != nil {
		t.Fatalf("runbook ics does not parse: %v\n%s", err, buf.String())
	}
	if len(cal.Children) != len(p.Milestones) {
		t.Fatalf("%d events, want %d", len(cal.Children), len(p.Milestones))
	}
	for i, ev := range cal.Children {
		m := p.Milestones[i]
		start, err := ev.Time("DTSTART")
		if err != nil || !start.Equal(m.Due) {
			t.Errorf("%s: DTSTART %v (%v), want %v", m.Step, start, err, m.Due)
		}
		if uid, _ := ev.Get("UID"); uid != m.Step+"-"+p.ID+"@periscope-sunset" {
			t.Errorf("%s: UID %q", m.Step, uid)
		}
		if stamp, err := ev.Time("DTSTAMP"); err != nil || !stamp.Equal(clk.now().Truncate(time.Second)) {
			t.Errorf("%s: DTSTAMP %v (%v)", m.Step, stamp, err)
		}
		if !strings.Contains(ev.Text("SUMMARY"), m.Step) {
			t.Errorf("%s: SUMMARY %q", m.Step, ev.Text("SUMMARY"))
		}
	}
	google := cal.Children[3]
	if d := google.Text("DESCRIPTION"); !strings.Contains(d, `unpublished; ticket OPS-42, see C:\shots, "ok"`+"\n") ||
		!strings.Contains(d, strings.Repeat("é✓", 60)) || !strings.Contains(d, "state: done") {
		t.Errorf("delist-google DESCRIPTION did not round-trip: %q", d)
	}
}

// TestICSParserIsStrict makes sure the parser the calendar test relies on
// refuses what it should.
func TestICSParserIsStrict(t *testing.T) {
	good := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\nBEGIN:VEVENT\r\nUID:a@b\r\n" +
		"DTSTAMP:20270101T000000Z\r\nDTSTART:20270331T070000Z\r\nSUMMARY:ok\\, fine\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if _, err := icstest.Parse([]byte(good)); err != nil {
		t.Fatalf("good calendar refused: %v", err)
	}
	for name, bad := range map[string]string{
		"bare LF":           strings.ReplaceAll(good, "\r\n", "\n"),
		"long line":         strings.Replace(good, "SUMMARY:ok", "SUMMARY:"+strings.Repeat("x", 80), 1),
		"unescaped comma":   strings.Replace(good, `ok\, fine`, "ok, fine", 1),
		"bad escape":        strings.Replace(good, `ok\, fine`, `ok\x`, 1),
		"no UID":            strings.Replace(good, "UID:a@b\r\n", "", 1),
		"no DTSTAMP":        strings.Replace(good, "DTSTAMP:20270101T000000Z\r\n", "", 1),
		"bad DTSTART":       strings.Replace(good, "DTSTART:20270331T070000Z", "DTSTART:2027-03-31", 1),
		"unclosed":          strings.TrimSuffix(good, "END:VCALENDAR\r\n"),
		"wrong version":     strings.Replace(good, "VERSION:2.0", "VERSION:1.0", 1),
		"end without begin": good + "END:VEVENT\r\n",
	} {
		if _, err := icstest.Parse([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWriteFoldedLimits(t *testing.T) {
	var buf bytes.Buffer
	p := Schedule{ID: "x", Version: 1}
	steps := []StepStatus{{Step: "s", Title: strings.Repeat("ü", 200), Kind: KindAuto, Due: delistDay, State: StatePending}}
	if err := WriteICS(&buf, p, steps, delistDay); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line of %d octets: %q", len(l), l)
		}
	}
	cal, err := icstest.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := cal.Children[0].Text("SUMMARY"); got != strings.Repeat("ü", 200)+" (s)" {
		t.Errorf("SUMMARY after folding = %q", got)
	}
}
