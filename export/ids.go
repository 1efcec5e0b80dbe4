package export

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidID reports whether id is a valid user or broadcast id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

func checkID(kind, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("invalid %s id %q: must match %s", kind, truncate(id, 80), idPattern)
	}
	return nil
}

// cleanRelPath checks a slash-separated path taken from the source (a
// listing key below a broadcast folder) before it becomes a path inside the
// bag. It refuses anything that could escape or confuse the bag: empty,
// "." or ".." components, absolute paths, backslashes, control characters
// and invalid UTF-8.
func cleanRelPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") {
		return fmt.Errorf("unsafe path %q", p)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("unsafe path %q: not valid UTF-8", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("unsafe path %q: empty, . or .. component", p)
		}
		if strings.ContainsFunc(part, func(r rune) bool { return unicode.IsControl(r) || r == '\\' }) {
			return fmt.Errorf("unsafe path %q: control character or backslash", p)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
