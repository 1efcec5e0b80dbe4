package sunset

import (
	"strings"
	"testing"
)

// TestDefaultOffsetsFollowTheSteps checks the help text against the step
// definitions and the schedule the tick really computes: every step, in
// order, with the offset newSchedule gives it.
func TestDefaultOffsetsFollowTheSteps(t *testing.T) {
	help := DefaultOffsets()
	var lines []string
	for _, l := range strings.Split(help, "\n") {
		if !strings.HasPrefix(l, " ") {
			lines = append(lines, l)
		}
	}
	defs := stepDefs()
	if len(lines) != len(defs) {
		t.Fatalf("help has %d step lines, want %d:\n%s", len(lines), len(defs), help)
	}
	for i, d := range defs {
		f := strings.Fields(lines[i])
		if f[0] != d.name || f[1] != offsetLabel(d.days) {
			t.Errorf("line %d: %q, want step %s at %s", i, lines[i], d.name, offsetLabel(d.days))
		}
	}
	for days, want := range map[int]string{-30: "D-30d", 0: "D", 7: "D+7d", 97: "D+97d"} {
		if got := offsetLabel(days); got != want {
			t.Errorf("offsetLabel(%d) = %q, want %q", days, got, want)
		}
	}
}
