package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultStatusPath is where the gate answers its status document.
const DefaultStatusPath = "/sunset.json"

// Status is the status document the gate answers at its status path
// itself, without reaching the app, so that an app update can hide its
// sign-up screen and show the notice. It is the same for every client and
// changes only when the state does. docs/gate.md documents the fields.
type Status struct {
	SignupsBlocked bool       `json:"signups_blocked"`
	Since          *time.Time `json:"since"`        // when sign-ups were blocked; null while open or unknown
	Sunset         *time.Time `json:"sunset"`       // when the service goes away; null: not set
	ReadOnlyAt     *time.Time `json:"read_only_at"` // when writes stop; null: never
	InfoURL        string     `json:"info_url"`     // the page explaining the shutdown; "" if none
	Message        string     `json:"message"`      // text to show users while sign-ups are blocked; "" while open
}

// CheckStatusPath reports whether p can be the status path: an absolute
// path as a request carries it, without query, fragment or control
// characters.
func CheckStatusPath(p string) error {
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#%") || hasControl(p) {
		return fmt.Errorf("status path %q: want an absolute path such as %s, without ?, #, %% or control characters", p, DefaultStatusPath)
	}
	return nil
}

// statusDoc is a state's status document, encoded once per refresh.
type statusDoc struct {
	body []byte
	etag string
}

func newStatusDoc(st State) statusDoc {
	s := Status{SignupsBlocked: st.Blocked, Sunset: timeOrNil(st.SunsetAt), ReadOnlyAt: timeOrNil(st.ReadOnlyAt), InfoURL: st.InfoURL}
	if st.Blocked {
		s.Since, s.Message = timeOrNil(st.BlockedSince), signupMessage(st)
	}
	body, _ := json.Marshal(s) // a struct of plain fields always encodes
	body = append(body, '\n')
	sum := sha256.Sum256(body)
	return statusDoc{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// timeOrNil is t in UTC to the second, or nil (JSON null) when zero.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}

// serveStatus answers the status document: GET and HEAD, with a strong
// ETag from the body and If-None-Match.
func (g *Gate) serveStatus(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		refuse(w, http.StatusMethodNotAllowed, "method_not_allowed", "The status document takes GET and HEAD.", "")
		return
	}
	g.mu.RLock()
	doc, known := g.doc, g.known
	g.mu.RUnlock()
	if !known {
		h.Set("Retry-After", strconv.Itoa(g.refreshSeconds()))
		refuse(w, http.StatusServiceUnavailable, "status_unavailable", "The shutdown status is not known yet; try again later.", "")
		return
	}
	h.Set("ETag", doc.etag)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(g.refreshSeconds()))
	h.Set("Access-Control-Allow-Origin", "*")
	if etagMatches(r.Header.Values("If-None-Match"), doc.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(doc.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(doc.body)
	}
}

func (g *Gate) refreshSeconds() int { return max(1, int(g.refresh.Seconds())) }

// etagMatches applies If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatches(header []string, etag string) bool {
	for _, v := range header {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}
