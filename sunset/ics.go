package sunset

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Calendar writes the schedule's milestones as an iCalendar file (RFC 5545),
// one event per step, for the team's calendars. Event UIDs derive from the
// schedule's id, so importing a rescheduled schedule updates the events instead of
// adding new ones.
func (s *State) Calendar(ctx context.Context, w io.Writer) error {
	p, steps, err := s.Status(ctx)
	if err != nil {
		return err
	}
	return WriteICS(w, p, steps, s.now())
}

const icsTime = "20060102T150405Z"

// WriteICS writes the calendar of p with each step's state at now.
func WriteICS(w io.Writer, p Schedule, steps []StepStatus, now time.Time) error {
	bw := bufio.NewWriter(w)
	line := func(name, value string) { writeFolded(bw, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//periscope-sunset//shutdown runbook//EN")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	line("X-WR-CALNAME", escapeText("Shutdown runbook"))
	for _, st := range steps {
		line("BEGIN", "VEVENT")
		line("UID", fmt.Sprintf("%s-%s@periscope-sunset", st.Step, p.ID))
		line("DTSTAMP", now.UTC().Format(icsTime))
		line("DTSTART", st.Due.UTC().Format(icsTime))
		line("DTEND", st.Due.Add(30*time.Minute).UTC().Format(icsTime))
		line("SEQUENCE", fmt.Sprint(p.Version))
		line("SUMMARY", escapeText(st.Title+" ("+st.Step+")"))
		line("DESCRIPTION", escapeText(eventDescription(st)))
		line("CATEGORIES", escapeText(st.Kind))
		line("STATUS", "CONFIRMED")
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return bw.Flush()
}

func eventDescription(st StepStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Step %s (%s), state: %s.", st.Step, st.Kind, st.State)
	if st.Evidence != "" {
		fmt.Fprintf(&b, "\nEvidence: %s", st.Evidence)
	}
	if st.Kind == KindAuto {
		b.WriteString("\nRun by the scheduled 'periscope-sunset runbook tick'.")
	} else if in := Instructions(st.Step); in != "" {
		b.WriteString("\n" + in + "\nThen: periscope-sunset runbook confirm " + st.Step + " --evidence TEXT")
	}
	return b.String()
}

// escapeText escapes a TEXT value (RFC 5545 section 3.3.11).
func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// writeFolded writes one content line, folded so that no line is longer
// than 75 octets (continuation lines start with a space), never inside a
// UTF-8 sequence, each ended by CRLF.
func writeFolded(w *bufio.Writer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.WriteString(s[:cut])
		w.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.WriteString(s)
	w.WriteString("\r\n")
}
