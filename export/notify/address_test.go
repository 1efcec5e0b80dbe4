package notify

import "testing"

func TestNotifyParseAddress(t *testing.T) {
	good := []string{"alice@example.com", "a.b+tag@mail.example.co.uk", "x_y-z@ex-ample.org"}
	for _, a := range good {
		if got, err := ParseAddress(a); err != nil || got != a {
			t.Errorf("ParseAddress(%q) = %q, %v; want it accepted as is", a, got, err)
		}
	}
	bad := map[string]string{
		"empty":           "",
		"crlf header":     "alice@example.com\r\nBcc: eve@evil.example",
		"lf":              "alice@example.com\nX: y",
		"nul":             "alice@example.com\x00",
		"two":             "alice@example.com, eve@evil.example",
		"semicolon":       "alice@example.com;eve@evil.example",
		"display name":    "Alice <alice@example.com>",
		"name smuggles":   "\"eve@evil.example\" <alice@example.com>",
		"group":           "team: alice@example.com, eve@evil.example;",
		"comment":         "alice@example.com (eve@evil.example)",
		"no domain":       "alice",
		"no at":           "alice.example.com",
		"bare host":       "alice@localhost",
		"domain literal":  "alice@[127.0.0.1]",
		"space":           "alice @example.com",
		"unicode newline": "alice@example.com\u2028",
		"trailing dot":    "alice@example.com.",
		"too long":        string(make([]byte, 300)) + "@example.com",
		"encoded word":    "=?utf-8?q?eve?= <alice@example.com>",
		"route":           "<@evil.example:alice@example.com>",
	}
	for name, a := range bad {
		if got, err := ParseAddress(a); err == nil {
			t.Errorf("%s: ParseAddress(%q) = %q, want a refusal", name, a, got)
		}
	}
}

func TestNotifyCleanName(t *testing.T) {
	cases := map[string]string{
		"Alice":                     "Alice",
		"Eve\r\nBcc: x@y.z":         "Eve Bcc: x@y.z",
		"  lots   of\tspace ":       "lots of space",
		"rtl\u202eoverride":         "rtloverride",
		"<script>alert(1)</script>": "<script>alert(1)</script>", // html/template escapes it
	}
	for in, want := range cases {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
