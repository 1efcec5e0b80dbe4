package export

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/periscope-sunset/periscope-sunset/internal/names"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// reservedPrefix starts every name the tool owns at the top of a
// destination (RunsPrefix, and any it adds later), so no user's folder can
// collide with one, on any file system, whatever its case rules.
const reservedPrefix = "_"

// ValidID reports whether id is a valid user or broadcast id: it matches
// idPattern and is not a name the tool reserves.
func ValidID(id string) bool { return checkID("user", id) == nil }

func checkID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return fmt.Errorf("invalid %s id %q: must match %s", kind, truncate(names.Visible(id), 80), idPattern)
	}
	if strings.HasPrefix(id, reservedPrefix) {
		return fmt.Errorf("invalid %s id %q: ids starting with %q are reserved for the tool's own folders in the destination (%s)",
			kind, id, reservedPrefix, strings.TrimSuffix(RunsPrefix, "/"))
	}
	return nil
}

// CheckSourcePath says whether the export reads the object at rel, a path
// below a user's folder (<broadcast_id>/<file...>), or omits it, and why.
// plan counts with it what the export will omit.
func CheckSourcePath(rel string) error {
	bid, rest, ok := strings.Cut(rel, "/")
	if err := checkID("broadcast", bid); err != nil {
		return err
	}
	if !ok || rest == "" {
		return errors.New("a file where a broadcast folder belongs")
	}
	return cleanRelPath(rel)
}

// cleanRelPath checks a slash-separated path taken from the source (a
// listing key below a broadcast folder) before it becomes a path inside the
// bag. It refuses anything that could escape or confuse the bag: empty,
// "." or ".." components, absolute paths, backslashes, and names a person
// could be fooled by (names.Check: invalid UTF-8, control and invisible
// format characters such as U+202E). Errors show the path with
// names.Visible, so they never carry the characters they refuse.
func cleanRelPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") {
		return fmt.Errorf("unsafe path %q", names.Visible(p))
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("unsafe path %q: empty, . or .. component", names.Visible(p))
		}
		if strings.Contains(part, `\`) {
			return fmt.Errorf("unsafe path %q: backslash", names.Visible(p))
		}
		if err := names.Check(part); err != nil {
			return fmt.Errorf("unsafe path: %w", err)
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
