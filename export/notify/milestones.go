package notify

import "github.com/periscope-sunset/periscope-sunset/sunset"

// userSteps are the runbook milestones a user's email names, in the
// words a user needs.
var userSteps = []struct{ step, title string }{
	{sunset.StepReadOnly, "the service becomes read-only: no new broadcasts"},
	{sunset.StepExportWindowClose, "exports are deleted and download links stop working"},
}

// MilestonesFrom picks the dates a user needs from the runbook's schedule.
func MilestonesFrom(p sunset.Schedule) []Milestone {
	var out []Milestone
	for _, s := range userSteps {
		if m, ok := p.Milestone(s.step); ok {
			out = append(out, Milestone{Title: s.title, At: m.Due})
		}
	}
	return out
}

// WindowClose is when the exports are deleted, if the schedule says.
func WindowClose(p sunset.Schedule) (Milestone, bool) {
	m, ok := p.Milestone(sunset.StepExportWindowClose)
	return Milestone{Title: m.Title, At: m.Due}, ok
}
