package portal

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/httpserve"
)

// DefaultShutdownTimeout is how long downloads in flight may take to
// finish once the server is told to stop.
const DefaultShutdownTimeout = 30 * time.Second

// Serve serves h on ln until ctx ends (SIGTERM in the command), then stops
// taking connections and lets requests in flight finish for up to
// shutdownTimeout (default DefaultShutdownTimeout) before it closes them.
// A stop asked for through ctx is not an error.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, shutdownTimeout time.Duration, log *slog.Logger) error {
	shutdownTimeout = cmp.Or(max(shutdownTimeout, 0), DefaultShutdownTimeout)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: a large part streamed from a local folder can
		// take hours on a slow line.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	err := httpserve.Serve(ctx, srv, ln, shutdownTimeout, func() { log.Info("shutting down", "grace", shutdownTimeout) })
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("requests still running at the end of the grace period were cut", "err", err)
		return nil
	}
	return err
}
