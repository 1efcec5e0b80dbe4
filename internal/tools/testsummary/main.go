// Command testsummary reads `go test -json` on standard input and prints
// what a person needs from a long run: the output of every failed or
// skipped test, then one closing line, "N passed, N failed, N skipped".
// It exits 1 when any test failed or was skipped, or a package failed to
// build: scripts/test runs the suite through it, so CI cannot pass on a
// skipped test.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	s, err := summarise(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	fmt.Printf("tests: %d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	if s.failed > 0 || s.skipped > 0 || s.badPackages > 0 {
		os.Exit(1)
	}
}

type summary struct {
	passed, failed, skipped, badPackages int
}

// summarise counts tests (subtests included) and prints each failed or
// skipped test's output as it ends, and every package-level failure.
func summarise(r io.Reader, w io.Writer) (summary, error) {
	var s summary
	out := map[string]*strings.Builder{} // package/test -> output so far
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line) // build errors arrive as plain text
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			b := out[key]
			if b == nil {
				b = &strings.Builder{}
				out[key] = b
			}
			b.WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				switch e.Action {
				case "fail":
					s.badPackages++
					fmt.Fprintf(w, "FAIL package %s\n%s", e.Package, text(out[key]))
				case "pass":
					fmt.Fprintf(w, "ok   %s\n", e.Package)
				default: // a package without test files: nothing was skipped
					fmt.Fprintf(w, "--   %s (no test files)\n", e.Package)
				}
				delete(out, key)
				continue
			}
			switch e.Action {
			case "pass":
				s.passed++
			case "fail":
				s.failed++
				fmt.Fprintf(w, "--- FAIL %s %s\n%s", e.Package, e.Test, text(out[key]))
			case "skip":
				s.skipped++
				fmt.Fprintf(w, "--- SKIP %s %s\n%s", e.Package, e.Test, text(out[key]))
			}
			delete(out, key)
		}
	}
	return s, sc.Err()
}

func text(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	return b.String()
}
