package gate

import (
	"net/http"
	"strings"
)

// Upgrade policy. After a 101 Switching Protocols every byte passes
// between client and app unchecked, so an upgrade is a tunnel past the
// gate: an HTTP/2 POST /signup inside an h2c upgrade would reach the app.
// Only WebSocket may upgrade, and only where the gate lets a WebSocket
// through (see MethodWebSocket); every other upgrade is stripped and the
// request goes on as plain HTTP/1.1, checked like any other.

// tunnelMethods never reach the app: CONNECT opens a raw tunnel, and PRI
// is the HTTP/2 prior-knowledge preface ("PRI * HTTP/2.0").
var tunnelMethods = map[string]bool{http.MethodConnect: true, "PRI": true}

// isTunnelMethod reports a request line that opens a tunnel.
func isTunnelMethod(r *http.Request) bool {
	return tunnelMethods[strings.ToUpper(r.Method)] || r.URL.Path == "*" && r.Method != http.MethodOptions
}

// applyUpgradePolicy returns r with every upgrade other than WebSocket
// removed, and whether r is a WebSocket upgrade. Any Upgrade header counts,
// with or without Connection: Upgrade, and a list that names anything
// besides websocket is not a WebSocket upgrade.
func applyUpgradePolicy(r *http.Request) (*http.Request, bool) {
	offers := r.Header.Values("Upgrade")
	if len(offers) == 0 && r.Header.Get("HTTP2-Settings") == "" {
		return r, false
	}
	if isWebSocketOnly(offers) {
		r = r.Clone(r.Context())
		r.Header.Del("HTTP2-Settings")
		return r, true
	}
	r = r.Clone(r.Context())
	r.Header.Del("Upgrade")
	r.Header.Del("HTTP2-Settings")
	var conn []string
	for _, v := range r.Header.Values("Connection") {
		var keep []string
		for tok := range strings.SplitSeq(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok != "" && !strings.EqualFold(tok, "Upgrade") && !strings.EqualFold(tok, "HTTP2-Settings") {
				keep = append(keep, tok)
			}
		}
		if len(keep) > 0 {
			conn = append(conn, strings.Join(keep, ", "))
		}
	}
	r.Header.Del("Connection")
	for _, v := range conn {
		r.Header.Add("Connection", v)
	}
	return r, false
}

func isWebSocketOnly(offers []string) bool {
	n := 0
	for _, v := range offers {
		for tok := range strings.SplitSeq(v, ",") {
			if !strings.EqualFold(strings.TrimSpace(tok), "websocket") {
				return false
			}
			n++
		}
	}
	return n > 0
}
