package notify

import (
	"errors"
	"net/mail"
	"strings"
	"unicode"
)

// maxAddressLen is RFC 5321's limit on a forward path's address.
const maxAddressLen = 254

// ParseAddress accepts exactly one bare mailbox, local@domain, and returns
// it as the server will see it. Anything else is refused: a display name
// ("Eve <a@b>"), a list, a group, comments, control characters (a CR/LF
// could smuggle a header) or a domain literal. Errors never repeat the
// address, so they can be logged and reported.
func ParseAddress(raw string) (string, error) {
	switch {
	case raw == "":
		return "", errors.New("empty address")
	case len(raw) > maxAddressLen:
		return "", errors.New("address longer than 254 bytes")
	case strings.IndexFunc(raw, isControlOrSpace) >= 0:
		return "", errors.New("address holds a control character or space")
	case strings.ContainsAny(raw, "<>,;:()\"[]\\"):
		return "", errors.New("not a single bare address (display name, list, group, comment or quoting)")
	}
	a, err := mail.ParseAddress(raw)
	if err != nil {
		return "", errors.New("not an RFC 5322 address")
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if a.Name != "" || a.Address != raw || !ok || local == "" || !validDomain(domain) {
		return "", errors.New("not a single bare address")
	}
	return a.Address, nil
}

// validDomain wants a dotted host name, the only kind a mailing sends to.
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return true
}

func isControlOrSpace(r rune) bool {
	return unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar
}

// CleanName makes a display name from users.jsonl safe to show in a
// message body: control and formatting characters dropped, whitespace
// collapsed, at most 64 characters. It never reaches a header.
func CleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == unicode.ReplacementChar:
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	return s
}
