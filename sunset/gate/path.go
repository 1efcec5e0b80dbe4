package gate

import (
	"errors"
	"path"
	"strings"
)

// ErrBadPath is why the gate answers 400 to a request path: it holds a
// control character (raw or percent-encoded at any depth), or it is
// encoded more deeply than the gate follows.
var ErrBadPath = errors.New("the request path holds a control character or is encoded too deeply")

const (
	// maxDecodes is how many rounds of percent-decoding the gate follows.
	// No server decodes more than twice; a path that still changes after
	// this is refused rather than compared in a form some server may not see.
	maxDecodes = 5
	// maxShapes bounds the rounds CleanPath runs to reach its fixed point;
	// every real path settles in one or two.
	maxShapes = 4
	// maxExtension is the longest format suffix (".json") that is dropped.
	maxExtension = 8
)

// CleanPath reduces a URL path to the form the gate compares, so that the
// spellings servers and frameworks treat as one route compare equal:
// percent-encoding (repeatedly, so %252F counts as /) and %2F, backslashes,
// path parameters (/signup;jsessionid=1), encoded ? and # that end the path,
// trailing dots and spaces, doubled and trailing slashes, dot segments,
// letter case, and format extensions on the last segment (/signup.json).
// Over-matching is the safe side for a gate: it refuses a little more,
// never less.
//
// The result is a fixed point (CleanPath of it is itself) and never holds a
// control character. A path with a control character (%00-%1F, %7F, raw or
// encoded at any depth) or one encoded more than maxDecodes deep is
// ErrBadPath.
func CleanPath(raw string) (string, error) {
	p := raw
	for range maxShapes {
		q, err := shapePath(p)
		if err != nil {
			return "", err
		}
		if q == p {
			return p, nil
		}
		p = q
	}
	return "", ErrBadPath
}

// shapePath is one round of CleanPath.
func shapePath(raw string) (string, error) {
	p, err := decodeAll(raw)
	if err != nil {
		return "", err
	}
	// A decoded ? or # ends the path for servers that decode twice.
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	p = strings.ReplaceAll(p, `\`, "/")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if j := strings.IndexByte(s, ';'); j >= 0 {
			s = s[:j]
		}
		if s != "." && s != ".." {
			s = strings.TrimRight(s, ". ")
		}
		segs[i] = s
	}
	p = strings.ToLower(path.Clean("/" + strings.Join(segs, "/")))
	return stripExtensions(p), nil
}

// decodeAll percent-decodes s until nothing changes, refusing control
// characters at every depth.
func decodeAll(s string) (string, error) {
	for range maxDecodes + 1 {
		if hasControl(s) {
			return "", ErrBadPath
		}
		u := lenientUnescape(s)
		if u == s {
			return s, nil
		}
		s = u
	}
	return "", ErrBadPath
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// stripExtensions drops ".json"-like suffixes of the last segment, and
// the dots and spaces they leave, until none is left.
func stripExtensions(p string) string {
	for {
		q := p
		dot := strings.LastIndexByte(q, '.')
		if slash := strings.LastIndexByte(q, '/'); dot > slash+1 && len(q)-dot-1 <= maxExtension && isAlnum(q[dot+1:]) {
			q = path.Clean("/" + strings.TrimRight(q[:dot], ". "))
		}
		if q == p {
			return p
		}
		p = q
	}
}

func isAlnum(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// lenientUnescape decodes every valid %XX and leaves anything else as it
// is, as lenient servers do.
func lenientUnescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
