// Package names decides which file names a person can be shown without
// being fooled by them, in one place for every part of the tool that shows
// or writes a name: the export's entry names, the viewer, the portal.
//
// A name is refused when it is not valid UTF-8 or holds a character that
// is invisible or moves the text around it: control characters (Cc, such
// as newline or NUL), format characters (Cf: the bidirectional overrides
// and isolates U+202A-U+202E and U+2066-U+2069 that make "clip\u202Egpj.exe"
// show as "clipexe.jpg", zero-width spaces and joiners U+200B-U+200D, the
// byte order mark U+FEFF, U+061C), line and paragraph separators (Zl, Zp)
// and private-use characters (Co), whose look depends on the font.
package names

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Check returns an error naming the first character of name that a person
// could be fooled by, or nil.
func Check(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("name %s is not valid UTF-8", Visible(name))
	}
	for _, r := range name {
		if why := deceptive(r); why != "" {
			return fmt.Errorf("name %s holds U+%04X, %s", Visible(name), r, why)
		}
	}
	return nil
}

// deceptive says why r must not appear in a name, or "" if it may.
func deceptive(r rune) string {
	switch {
	case r == utf8.RuneError:
		return "an invalid byte"
	case unicode.Is(unicode.Cc, r):
		return "a control character"
	case unicode.Is(unicode.Cf, r):
		return "an invisible format character that can hide or reorder text"
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "a line or paragraph separator"
	case unicode.Is(unicode.Co, r):
		return "a private-use character"
	}
	return ""
}

// Visible returns name with every character Check refuses written out as
// \uXXXX (and every invalid byte as \xXX), so a name can be shown, logged
// or recorded as it is without fooling anyone. A backslash is doubled, so
// the result reads back unambiguously.
func Visible(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02X`, name[i])
		case r == '\\':
			b.WriteString(`\\`)
		case deceptive(r) != "":
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}
