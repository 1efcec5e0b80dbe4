package names

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"replay.mp4", true},
		{"Zoë 🎥.txt", true},
		{"مرحبا.txt", true}, // right-to-left text itself is fine; overrides are not
		{"שלום.jpg", true},
		{"clip\u202Egpj.exe", false},
		{"a\u202Ab", false}, {"a\u202Bb", false}, {"a\u202Cb", false}, {"a\u202Db", false},
		{"a\u2066b", false}, {"a\u2067b", false}, {"a\u2068b", false}, {"a\u2069b", false},
		{"a\u200Bb", false}, {"a\u200Cb", false}, {"a\u200Db", false}, {"a\u200Eb", false}, {"a\u200Fb", false},
		{"\uFEFFname", false}, {"a\u061Cb", false}, {"a\u00ADb", false}, {"a\u2060b", false},
		{"a\nb", false}, {"a\x00b", false}, {"a\x7Fb", false}, {"a\u0085b", false}, {"a\tb", false},
		{"a\u2028b", false}, {"a\u2029b", false}, {"a\uE000b", false},
		{"a\xffb", false}, {"\xed\xa0\x80", false}, // a UTF-16 surrogate encoded in UTF-8
	} {
		if err := Check(tc.name); (err == nil) != tc.ok {
			t.Errorf("Check(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"clip\u202Egpj.exe": `clip\u202Egpj.exe`,
		"a\u200Bb":          `a\u200Bb`,
		"a\xffb":            `a\xFFb`,
		`a\u202Eb`:          `a\\u202Eb`, // a literal backslash cannot pass for an escape
		"Zoë 🎥":             "Zoë 🎥",
	} {
		got := Visible(in)
		if got != want {
			t.Errorf("Visible(%q) = %q, want %q", in, got, want)
		}
		if Check(got) != nil {
			t.Errorf("Visible(%q) = %q, which Check refuses", in, got)
		}
	}
	if err := Check("clip\u202Egpj.exe"); err == nil || strings.ContainsRune(err.Error(), '\u202E') {
		t.Errorf("the error %q must not carry the character it refuses", err)
	}
}
