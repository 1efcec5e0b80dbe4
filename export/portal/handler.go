package portal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// DefaultPresignTTL is how long a part's presigned URL works: enough to
// start the download (S3 checks the signature when a GET starts, not while
// it streams), short enough that a leaked URL soon stops working.
const DefaultPresignTTL = 15 * time.Minute

// Options tune the portal. Only Signer is required; zero values mean the
// defaults.
type Options struct {
	// Signer checks the link tokens; it must hold the secret `links` used.
	Signer *Signer
	// Presigner, when set, makes part downloads redirects to presigned
	// URLs. Default: PresignerFor(dst), so S3 destinations redirect and
	// local folders stream.
	Presigner Presigner
	// PresignTTL is how long each presigned URL works (default
	// DefaultPresignTTL, at most MaxPresignTTL).
	PresignTTL time.Duration
	// Rate is the requests per second allowed per client (default
	// DefaultRate) and Burst the bucket size (default DefaultBurst).
	Rate  float64
	Burst int
	// TrustedProxies are the load balancers or proxies whose
	// X-Forwarded-For is believed when telling clients apart.
	TrustedProxies []netip.Prefix
	// OnDownload, when set, is told of every download the portal saw
	// complete (Via "stream": a response wrote the part's last byte) and
	// of every presigned URL it handed out (Via "redirect": the download
	// then happens between the client and S3). The audit trail. An error
	// is logged; the response is not changed.
	OnDownload func(context.Context, Download) error
	// Log gets one line per request and every error (default: discard).
	// Tokens are never logged.
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Download is one part download, for the audit trail. It holds no token.
type Download struct {
	User  string
	Part  int // 1-based
	Parts int
	Key   string // the part's key in the destination
	Bytes int64  // the part's size
	Via   string // ViaStream or ViaRedirect
	// From and Served, for ViaStream: the offset of the first byte this
	// response served and how many it served, up to the part's last byte.
	// A full download is From 0, Served Bytes; a resumption starts later.
	From, Served int64
}

// How a download went, the audit event's result.
const (
	ViaStream   = "stream"   // the portal served the part up to its last byte
	ViaRedirect = "redirect" // a presigned URL was handed out; S3 serves the bytes
)

// Detail is the audit event's one-line description of d.
func (d Download) Detail() string {
	if d.Via == ViaRedirect {
		return fmt.Sprintf("part %d of %d: %s (%d bytes): presigned URL handed out, not a completed download",
			d.Part, d.Parts, d.Key, d.Bytes)
	}
	return fmt.Sprintf("part %d of %d: %s (%d bytes): served bytes %d-%d, %d bytes, to the last byte",
		d.Part, d.Parts, d.Key, d.Bytes, d.From, d.From+d.Served-1, d.Served)
}

// Handler is the download portal, an http.Handler.
type Handler struct {
	dst     blob.Store
	opts    Options
	limiter *limiter
	routes  http.Handler
}

// New returns the portal for the exports in dst.
func New(dst blob.Store, opts Options) (*Handler, error) {
	if opts.Signer == nil {
		return nil, errors.New("portal: no signer (secret) given")
	}
	if opts.Presigner == nil {
		opts.Presigner = PresignerFor(dst)
	}
	opts.PresignTTL = cmp.Or(max(opts.PresignTTL, 0), DefaultPresignTTL)
	if opts.PresignTTL > MaxPresignTTL {
		return nil, fmt.Errorf("portal: presigned URLs last at most %v, not %v", MaxPresignTTL, opts.PresignTTL)
	}
	opts.Rate = cmp.Or(max(opts.Rate, 0), DefaultRate)
	opts.Burst = cmp.Or(max(opts.Burst, 0), DefaultBurst)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{dst: dst, opts: opts}
	h.limiter = newLimiter(opts.Rate, opts.Burst, opts.TrustedProxies, opts.Now)

	mux := http.NewServeMux()
	for route, fn := range map[string]http.HandlerFunc{
		"/u/{user}":            h.userPage,
		"/u/{user}/parts/{n}":  h.part,
		"/u/{user}/SHA256SUMS": h.sums,
	} {
		mux.HandleFunc("GET "+route, fn) // and HEAD
		mux.HandleFunc(route, methodNotAllowed)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { writePage(w, http.StatusOK, homePage) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writePage(w, http.StatusNotFound, notFoundPage) })
	limited := h.limiter.wrap(mux, func(w http.ResponseWriter, r *http.Request) {
		writePage(w, http.StatusTooManyRequests, rateLimitedPage)
	})
	// Health checks come often and from the load balancer: never limited.
	top := http.NewServeMux()
	top.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	top.Handle("/", h.logRequests(limited))
	h.routes = securityHeaders(top)
	return h, nil
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusMethodNotAllowed)
	w.Write([]byte("method not allowed\n"))
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.routes.ServeHTTP(w, r) }

// securityHeaders go on every response. Referrer-Policy keeps the token
// in the page's URL from leaking to wherever a link or redirect goes.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// authorize checks the user id in the path and the token in the query. On
// any failure it answers the one 403 page and returns ok false. The store
// is not touched before the token is good, so a refusal takes the same
// path whether or not the user exists.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) (user string, expiry time.Time, ok bool) {
	user = r.PathValue("user")
	if !export.ValidID(user) {
		writePage(w, http.StatusForbidden, forbiddenPage)
		return "", time.Time{}, false
	}
	expiry, err := h.opts.Signer.Verify(user, r.URL.Query().Get("token"), h.opts.Now())
	if err != nil {
		h.opts.Log.Info("token refused", "user", user, "reason", err)
		writePage(w, http.StatusForbidden, forbiddenPage)
		return "", time.Time{}, false
	}
	return user, expiry, true
}

// manifest reads the user's manifest. A user without one gets the "not
// ready yet" page with 404: the download does not exist yet, and a link
// checker (or the mailer's own pre-flight check) can tell that from the
// status alone, while a person sees the friendly page.
// authorizedManifest checks the request's token and reads the user's
// manifest, answering the request itself (403, or "not ready yet") when
// either fails. Every user route starts with it.
func (h *Handler) authorizedManifest(w http.ResponseWriter, r *http.Request) (user string, expiry time.Time, m *export.Manifest, ok bool) {
	if user, expiry, ok = h.authorize(w, r); !ok {
		return "", time.Time{}, nil, false
	}
	m, ok = h.manifest(w, r, user, expiry)
	return user, expiry, m, ok
}

func (h *Handler) manifest(w http.ResponseWriter, r *http.Request, user string, expiry time.Time) (*export.Manifest, bool) {
	m, err := export.ReadManifest(r.Context(), h.dst, user)
	switch {
	case errors.Is(err, blob.ErrNotExist):
		body, rerr := renderPage("notready", withExpiry(page{Title: "Your archive is not ready yet"}, expiry))
		if rerr != nil {
			h.fail(w, r, rerr)
			return nil, false
		}
		writePage(w, http.StatusNotFound, body)
		return nil, false
	case err != nil:
		h.fail(w, r, fmt.Errorf("user %s: %w", user, err))
		return nil, false
	case m.UserID != user:
		h.fail(w, r, fmt.Errorf("user %s: manifest.json names user %q", user, m.UserID))
		return nil, false
	}
	for _, p := range m.Parts {
		if err := checkPartKey(user, p.Key); err != nil {
			h.fail(w, r, err)
			return nil, false
		}
	}
	return m, true
}

// fail logs err and answers a plain 500 page that says nothing about it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.opts.Log.Error("request failed", "path", r.URL.Path, "err", err)
	writePage(w, http.StatusInternalServerError, errorPage)
}

// logRequests logs one line per request (but health checks): never the
// query, which holds the token.
func (h *Handler) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := h.opts.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		h.opts.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"client", clientKey(r, h.opts.TrustedProxies), "duration", h.opts.Now().Sub(start).Round(time.Millisecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
