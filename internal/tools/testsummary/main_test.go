package main

import (
	"strings"
	"testing"
)

func TestSummarise(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"output","Package":"p","Test":"TestA","Output":"a says hi\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"versitygw not found\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestC/sub","Output":"want 3, got 4\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestC/sub"}`,
		`{"Action":"fail","Package":"p","Test":"TestC"}`,
		`{"Action":"fail","Package":"p"}`,
		`{"Action":"skip","Package":"q"}`,
		`# r [build failed]`,
	}, "\n")
	var out strings.Builder
	s, err := summarise(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if s != (summary{passed: 1, failed: 2, skipped: 1, badPackages: 1}) {
		t.Errorf("counts %+v", s)
	}
	for _, want := range []string{"--- SKIP p TestB\nversitygw not found", "--- FAIL p TestC/sub\nwant 3, got 4",
		"FAIL package p", "--   q (no test files)", "# r [build failed]"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "a says hi") {
		t.Errorf("a passing test's output was printed:\n%s", out.String())
	}
}
