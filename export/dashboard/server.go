package dashboard

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/netip"
)

// ErrNeedAuth is returned by CheckListen for an address other than
// loopback without credentials.
var ErrNeedAuth = errors.New("listening beyond loopback needs credentials (--auth-file): the page shows the shutdown's internals")

// CheckListen refuses an address that is not loopback-only unless auth
// is set. A host name other than localhost counts as not loopback, and so
// does an empty host (every interface).
func CheckListen(addr string, auth *Auth) error {
	if auth != nil {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return ErrNeedAuth
	}
	return nil
}

// Handler serves the page on / and, when metrics is set, metrics on
// /metrics; auth, when set, guards both. /healthz answers without auth.
func Handler(c *Collector, metrics http.Handler, auth *Auth) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		snap, err := c.Snapshot()
		var buf bytes.Buffer
		if rerr := render(&buf, snap, err); rerr != nil {
			http.Error(w, "render: "+rerr.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		w.Write(buf.Bytes())
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	var h http.Handler = mux
	if auth != nil {
		h = auth.Wrap(mux)
	}
	top := http.NewServeMux()
	top.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	top.Handle("/", h)
	return top
}
