package gate

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzCleanPath checks the invariants the gate's route matching rests on:
// CleanPath never panics, its result is a fixed point free of control
// characters, and every equivalent spelling of a clean path cleans to it,
// so no spelling matches a route differently. Seeds: testdata/fuzz.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/signup", "/SignUp/", "/%2573ignup", "/a/../b;x.json", "/signup%00", "/x%250a",
		`/api\v1%5Cusers`, "/signup.json.json", "/a..json", "/x.json/..json", "/%41%2541"} {
		f.Add(s, uint8(1))
	}
	f.Fuzz(func(t *testing.T, raw string, at uint8) {
		clean, err := CleanPath(raw)
		if err != nil {
			return
		}
		if hasControl(clean) {
			t.Fatalf("CleanPath(%q) = %q holds a control character", raw, clean)
		}
		if again, err := CleanPath(clean); err != nil || again != clean {
			t.Fatalf("CleanPath(%q) = %q, but CleanPath(%q) = %q, %v", raw, clean, clean, again, err)
		}
		for _, v := range spellings(clean, int(at)) {
			if got, err := CleanPath(v); err != nil || got != clean {
				t.Fatalf("%q cleans to %q, its spelling %q to %q (%v)", raw, clean, v, got, err)
			}
		}
	})
}

// spellings are ways to write the clean path p that servers treat as p.
func spellings(p string, at int) []string {
	i := at % len(p)
	enc := fmt.Sprintf("%%%02X", p[i])
	out := []string{
		asciiUpper(p), "/" + p, p + "/", p + "/.", "/./" + p,
		p + "?q=1", p + "#f", p + ";p=1", p[:i] + enc + p[i+1:], p[:i] + "%25" + enc[1:] + p[i+1:],
		strings.ReplaceAll(p, "/", `\`), strings.ReplaceAll(p, "/", "%2F"), p + "/x/..",
	}
	if !strings.HasSuffix(p, "/") {
		out = append(out, p+".json", p+".", p+" ")
	}
	return out
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
