package gate

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Route is one "METHOD /path" the gate matches, kept in normal form; only
// ParseRoute makes one, so a route is never compared in a form a request
// cannot take. An empty method (a route given as a bare path, or
// "ANY /path") matches every method. The method WEBSOCKET names a
// WebSocket upgrade.
type Route struct {
	method string
	path   string
}

// Method is the route's method, "" for any.
func (r Route) Method() string { return r.method }

// Path is the route's path in CleanPath's normal form.
func (r Route) Path() string { return r.path }

func (r Route) String() string { return strings.TrimSpace(r.method + " " + r.path) }

// ParseRoute reads "POST /signup", "ANY /signup", "WEBSOCKET /live" or
// "/signup".
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
	clean, err := CleanPath(p)
	if err != nil {
		return Route{}, fmt.Errorf("route %q: %w", s, err)
	}
	return Route{method: method, path: clean}, nil
}

// ParseRoutes parses each of ss, parsing them once for the gate's life.
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

// pathOverrides are headers some frameworks and servers (Symfony, Zend,
// IIS URL Rewrite) read to replace the request path.
var pathOverrides = []string{"X-Original-URL", "X-Rewrite-URL"}

// requestPaths is every path the request may be handled as, in normal
// form: its own and any path override (the path part of the value). Like
// method overrides, the gate refuses the request if it would refuse any.
func requestPaths(r *http.Request) ([]string, error) {
	p, err := requestPath(r)
	if err != nil {
		return nil, err
	}
	paths := []string{p}
	for _, h := range pathOverrides {
		for _, v := range r.Header.Values(h) {
			if hasControl(v) {
				return nil, ErrBadPath
			}
			if u, err := url.Parse(v); err == nil && u.Scheme != "" {
				v = u.EscapedPath()
			}
			v, _, _ = strings.Cut(v, "?")
			alt, err := CleanPath("/" + v)
			if err != nil {
				return nil, err
			}
			paths = append(paths, alt)
		}
	}
	return paths, nil
}

// requestPath is the request's path in normal form. An absolute-form
// request target with an odd scheme can leave the path in URL.Opaque.
func requestPath(r *http.Request) (string, error) {
	if o := r.URL.Opaque; o != "" {
		if hasControl(o) {
			return "", ErrBadPath
		}
		o = lenientUnescape(o)
		if rest, ok := strings.CutPrefix(o, "//"); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				o = rest[i:]
			}
		}
		return CleanPath(o)
	}
	return CleanPath(r.URL.EscapedPath())
}

// refuses reports whether a refusing route list (the sign-up routes)
// holds the request method m on path p. HEAD is a GET without a body, so
// a GET route holds it; a WebSocket carries any method, so every route on
// its path holds it, and so does methodAny.
func (rt Route) refuses(m, p string) bool {
	return rt.path == p && (rt.method == "" || rt.method == m || m == MethodWebSocket || m == methodAny ||
		(rt.method == http.MethodGet && m == http.MethodHead))
}

// allows reports whether an allowing route list (the read-only
// allow-list) holds m on p: only the very method, or an ANY route (the
// only one that holds methodAny).
func (rt Route) allows(m, p string) bool {
	return rt.path == p && (rt.method == "" || rt.method == m)
}
