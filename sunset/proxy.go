package sunset

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
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

// ServeProxy serves the gated proxy to upstream on ln until ctx ends, then
// shuts down gracefully (requests in flight get shutdownTimeout to finish;
// default 10s). It runs the gate's refresh loop meanwhile. A clean
// shutdown returns nil.
func ServeProxy(ctx context.Context, ln net.Listener, upstream *url.URL, g *Gate, shutdownTimeout time.Duration) error {
	if shutdownTimeout <= 0 {
		shutdownTimeout = 10 * time.Second
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go g.Run(runCtx)
	srv := &http.Server{
		Handler:           g.Wrap(NewProxy(upstream)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
