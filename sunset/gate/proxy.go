package gate

import (
	"cmp"
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/httpserve"
)

// NewProxy returns a reverse proxy to upstream, for apps not written in
// Go: put it behind Gate.Wrap. It forwards the request as received (the
// gate matches a normalised path but never rewrites it) and sets the
// X-Forwarded-* headers.
func NewProxy(upstream *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			r.SetXForwarded()
			// The gate has stripped other upgrades already; this keeps the
			// proxy safe on its own. A 101 to a request that did not ask
			// for it is a 502 (httputil checks the protocols agree).
			if !isWebSocketOnly(r.Out.Header.Values("Upgrade")) {
				r.Out.Header.Del("Upgrade")
				r.Out.Header.Del("Connection")
			}
			r.Out.Header.Del("HTTP2-Settings")
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			refuse(w, http.StatusBadGateway, "upstream_unreachable", "The service is unreachable.", "")
		},
	}
}

// DefaultShutdownTimeout is how long requests in flight may take to finish
// once ServeProxy is told to stop.
const DefaultShutdownTimeout = 10 * time.Second

// ServeProxy serves the gated proxy to upstream on ln until ctx ends, then
// shuts down gracefully (requests in flight get shutdownTimeout to finish;
// default DefaultShutdownTimeout). It runs the gate's refresh loop
// meanwhile. A clean shutdown returns nil.
func ServeProxy(ctx context.Context, ln net.Listener, upstream *url.URL, g *Gate, shutdownTimeout time.Duration) error {
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go g.Run(runCtx)
	srv := &http.Server{
		Handler:           g.Wrap(NewProxy(upstream)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return httpserve.Serve(ctx, srv, ln, cmp.Or(max(shutdownTimeout, 0), DefaultShutdownTimeout), nil)
}
