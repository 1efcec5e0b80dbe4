// Package httpserve serves an http.Server until its context ends, then
// drains it: the one serve-and-drain loop of the portal and the gate's
// proxy. It runs the server's accept loop in one goroutine and waits in
// the caller's.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves srv on ln until ctx ends (SIGTERM in the commands), then
// stops taking connections and lets requests in flight finish for up to
// grace before it closes them. A stop asked for through ctx is not an
// error; requests cut at the end of the grace are an error wrapping
// context.DeadlineExceeded. onDrain, when set, is called as the drain
// begins.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration, onDrain func()) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	if onDrain != nil {
		onDrain()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
		err = fmt.Errorf("drain: requests still running after %s were cut: %w", grace, err)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
