package gate

import (
	"bufio"
	"net"
	"net/http"
	"strings"
)

// sunsetWriter makes the gate the only source of the RFC 8594 headers:
// just before the header goes out it drops any Sunset header and
// rel="sunset" Link the app set, and sets the gate's. A response with two
// Sunset dates would leave the client to pick one.
type sunsetWriter struct {
	http.ResponseWriter
	st      State
	known   bool
	written bool
}

func (w *sunsetWriter) fix() { setSunsetHeaders(w.Header(), w.st, w.known) }

// WriteHeader fixes the header on every call, 1xx responses included.
func (w *sunsetWriter) WriteHeader(code int) {
	w.fix()
	w.written = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *sunsetWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.fix()
		w.written = true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *sunsetWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush and Hijack are here for apps that type-assert the writer rather
// than use http.ResponseController.
func (w *sunsetWriter) Flush() {
	if !w.written {
		w.fix()
		w.written = true
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *sunsetWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// setSunsetHeaders replaces every Sunset header and rel="sunset" Link in
// h with the gate's (none while the state is unknown or has none).
func setSunsetHeaders(h http.Header, st State, known bool) {
	h.Del("Sunset")
	dropSunsetLinks(h)
	if !known {
		return
	}
	if !st.SunsetAt.IsZero() {
		h.Set("Sunset", st.SunsetAt.UTC().Format(http.TimeFormat))
	}
	if st.InfoURL != "" {
		h.Add("Link", "<"+st.InfoURL+`>; rel="sunset"`)
	}
}

// dropSunsetLinks removes the link-values whose rel names "sunset" from
// every Link header, keeping the others.
func dropSunsetLinks(h http.Header) {
	vals := h.Values("Link")
	if len(vals) == 0 {
		return
	}
	var keep []string
	for _, v := range vals {
		var kept []string
		for _, lv := range splitLinks(v) {
			if !relHasSunset(lv) {
				kept = append(kept, strings.TrimSpace(lv))
			}
		}
		if len(kept) > 0 {
			keep = append(keep, strings.Join(kept, ", "))
		}
	}
	h.Del("Link")
	for _, v := range keep {
		h.Add("Link", v)
	}
}

// splitLinks splits a Link header at the commas between link-values,
// not those inside <URI> or a quoted string.
func splitLinks(v string) []string {
	var out []string
	inURI, inQuote, start := false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"' && !inURI:
			inQuote = !inQuote
		case c == '<' && !inQuote:
			inURI = true
		case c == '>' && !inQuote:
			inURI = false
		case c == ',' && !inURI && !inQuote:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// relHasSunset reports whether one link-value's rel parameter names sunset.
func relHasSunset(lv string) bool {
	if i := strings.IndexByte(lv, '>'); i >= 0 {
		lv = lv[i+1:]
	}
	for param := range strings.SplitSeq(lv, ";") {
		name, val, ok := strings.Cut(param, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(val), `"`)) {
			if strings.EqualFold(rel, "sunset") {
				return true
			}
		}
	}
	return false
}
