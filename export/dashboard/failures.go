package dashboard

import (
	"regexp"
	"sort"
	"strings"

	"github.com/periscope-sunset/periscope-sunset/export"
)

var (
	// Counts and positions ("line 12", "part 3"), not digits inside
	// a pattern such as {1,64}.
	numbers = regexp.MustCompile(`(^|[\s(#:=])\d+\b`)
	// Secrets and addresses never reach the page, even when a reason
	// quotes a bad users.jsonl line or a URL.
	emails = regexp.MustCompile(`[^\s"'<>@,;:()\[\]]+@[^\s"'<>@,;:()\[\]]+`)
	tokens = regexp.MustCompile(`(?i)(token|signature|x-amz-[a-z-]+|secret|password)=[^&\s"']*`)
)

// Redact hides email addresses and URL secrets in text shown on the page.
func Redact(s string) string {
	s = emails.ReplaceAllString(s, "[address hidden]")
	return tokens.ReplaceAllString(s, "$1=[hidden]")
}

// groupFailures groups failures whose reasons differ only in the user id
// and numbers, biggest group first, with up to n users each.
func groupFailures(fs []export.Failure, n int) []FailureGroup {
	byKey := map[string]*FailureGroup{}
	for _, f := range fs {
		reason := f.Reason
		if f.User != "" {
			reason = strings.ReplaceAll(reason, f.User, "<user>")
		}
		reason = Redact(numbers.ReplaceAllString(reason, "${1}N"))
		g := byKey[reason]
		if g == nil {
			g = &FailureGroup{Reason: reason}
			byKey[reason] = g
		}
		g.Count++
		if export.ValidID(f.User) && len(g.Users) < n { // an invalid id may be anything, an address too
			g.Users = append(g.Users, f.User)
		}
	}
	out := make([]FailureGroup, 0, len(byKey))
	for _, g := range byKey {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}
