package sunset

import (
	"fmt"
	"net/http"
	"path"
	"strings"
)

// Route is one "METHOD /path" the gate matches, kept in normal form. An
// empty Method (a route given as a bare path, or "ANY /path") matches
// every method.
type Route struct {
	Method string
	Path   string
}

func (r Route) String() string { return strings.TrimSpace(r.Method + " " + r.Path) }

// ParseRoute reads "POST /signup", "ANY /signup" or "/signup".
func ParseRoute(s string) (Route, error) {
	f := strings.Fields(s)
	var method, p string
	switch len(f) {
	case 1:
		p = f[0]
	case 2:
		method, p = strings.ToUpper(f[0]), f[1]
	default:
		return Route{}, fmt.Errorf("route %q: want \"METHOD /path\", e.g. \"POST /signup\"", s)
	}
	if !strings.HasPrefix(p, "/") {
		return Route{}, fmt.Errorf("route %q: the path must start with /", s)
	}
	if method == "ANY" || method == "*" {
		method = ""
	}
	for _, c := range method {
		if c < 'A' || c > 'Z' {
			return Route{}, fmt.Errorf("route %q: bad method %q", s, method)
		}
	}
	return Route{Method: method, Path: NormalizePath(p)}, nil
}

// ParseRoutes parses each of ss.
func ParseRoutes(ss []string) ([]Route, error) {
	out := make([]Route, 0, len(ss))
	for _, s := range ss {
		r, err := ParseRoute(s)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// NormalizePath reduces a URL path to the form the gate compares, so that
// the spellings servers and frameworks treat as one route compare equal:
// percent-encoding (repeatedly, so %252F counts as /) and %2F, backslashes,
// path parameters (/signup;jsessionid=1), encoded ?, # and NUL that end
// the path, trailing dots and
// spaces, doubled and trailing slashes, dot segments, letter case, and a
// format extension on the last segment (/signup.json). Over-matching is the
// safe side for a gate: it refuses a little more, never less.
func NormalizePath(raw string) string {
	p := raw
	for range 5 {
		u := lenientUnescape(p)
		if u == p {
			break
		}
		p = u
	}
	// A decoded ?, # or NUL ends the path for servers that decode twice or
	// hand C strings on.
	if i := strings.IndexAny(p, "?#\x00"); i >= 0 {
		p = p[:i]
	}
	p = strings.ReplaceAll(p, `\`, "/")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if j := strings.IndexByte(s, ';'); j >= 0 {
			s = s[:j]
		}
		if s != "." && s != ".." {
			s = strings.TrimRight(s, ". \t")
		}
		segs[i] = s
	}
	p = strings.ToLower(path.Clean("/" + strings.Join(segs, "/")))
	return stripExtension(p)
}

// stripExtension drops ".json"-like suffixes of the last segment.
func stripExtension(p string) string {
	dot := strings.LastIndexByte(p, '.')
	if dot <= strings.LastIndexByte(p, '/')+1 || len(p)-dot > 9 {
		return p
	}
	for _, c := range p[dot+1:] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return p
		}
	}
	return p[:dot]
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

// methodOverrides are headers frameworks read to replace the method.
var methodOverrides = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// requestMethods is every method the request may be handled as: its own,
// upper-cased, plus any override a framework behind the gate may honour
// (headers, and the _method query parameter of Rails and Laravel).
func requestMethods(r *http.Request) []string {
	ms := []string{strings.ToUpper(r.Method)}
	add := func(v string) {
		if v = strings.ToUpper(strings.TrimSpace(v)); v != "" {
			ms = append(ms, v)
		}
	}
	for _, h := range methodOverrides {
		for _, v := range r.Header.Values(h) {
			add(v)
		}
	}
	for _, v := range r.URL.Query()["_method"] {
		add(v)
	}
	return ms
}

// requestPath is the request's path in normal form. An absolute-form
// request target with an odd scheme can leave the path in URL.Opaque.
func requestPath(r *http.Request) string {
	if o := r.URL.Opaque; o != "" {
		o = lenientUnescape(o)
		if rest, ok := strings.CutPrefix(o, "//"); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				o = rest[i:]
			}
		}
		return NormalizePath(o)
	}
	return NormalizePath(r.URL.EscapedPath())
}

// match reports whether a request with these methods and normal path is
// on the route. HEAD is a GET without a body, so a GET route matches it.
func (rt Route) match(methods []string, p string) bool {
	if p != rt.Path {
		return false
	}
	if rt.Method == "" {
		return true
	}
	for _, m := range methods {
		if m == rt.Method || (rt.Method == http.MethodGet && m == http.MethodHead) {
			return true
		}
	}
	return false
}

func matchAny(routes []Route, methods []string, p string) bool {
	for _, rt := range routes {
		if rt.match(methods, p) {
			return true
		}
	}
	return false
}

// isMutating reports a request that may change state: any method other
// than GET, HEAD and OPTIONS, by itself or through an override.
func isMutating(methods []string) bool {
	for _, m := range methods {
		switch m {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			return true
		}
	}
	return false
}
