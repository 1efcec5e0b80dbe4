package gate

import (
	"net/http"
	"strings"
)

// MethodWebSocket is the method the gate gives a WebSocket upgrade, on top
// of its own GET: once the socket is open it can carry anything, so a
// sign-up route refuses it whatever the route's method, and after the
// read-only milestone only a "WEBSOCKET /path" or "ANY /path" entry of the
// allow-list lets it through.
const MethodWebSocket = "WEBSOCKET"

// methodOverrides are headers frameworks read to replace the method.
var methodOverrides = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// effectiveMethods is the one rule for method overrides, used alike for
// the sign-up routes and the read-only allow-list: a request may be handled
// as its own method (upper-cased), as any override a framework behind the
// gate may honour (the headers above, and the _method query parameter of
// Rails and Laravel), or, for a WebSocket upgrade, as MethodWebSocket. The
// gate refuses the request if it would refuse any one of them.
func effectiveMethods(r *http.Request, websocket bool) []string {
	ms := []string{strings.ToUpper(r.Method)}
	add := func(v string) {
		if v = strings.ToUpper(strings.TrimSpace(v)); v != "" {
			ms = append(ms, v)
		}
	}
	for _, h := range methodOverrides {
		for _, v := range r.Header.Values(h) {
			for part := range strings.SplitSeq(v, ",") {
				add(part)
			}
		}
	}
	for _, v := range r.URL.Query()["_method"] {
		add(v)
	}
	if websocket {
		ms = append(ms, MethodWebSocket)
	}
	return ms
}

// isMutating reports a method that may change state: anything other than
// GET, HEAD and OPTIONS (a WebSocket included).
func isMutating(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
