package httpserve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveSlow serves a handler that answers once release is closed, starts
// one request, and cancels the server's context while it is in flight.
func serveSlow(t *testing.T, grace time.Duration, release chan struct{}) (string, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "done")
	})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	drained := make(chan struct{})
	go func() { served <- Serve(ctx, srv, ln, grace, func() { close(drained) }) }()
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			body <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body <- string(b)
	}()
	<-started
	cancel()
	<-drained
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the listener still accepts during the drain")
	}
	close(release)
	err = <-served
	return <-body, err
}

// TestServeDrains: a request in flight when the context ends finishes,
// and the stop is not an error.
func TestServeDrains(t *testing.T) {
	release := make(chan struct{})
	body, err := serveSlow(t, 10*time.Second, release)
	if err != nil || body != "done" {
		t.Fatalf("Serve = %v, body %q; want nil and the request finished", err, body)
	}
}

// TestServeCutsAfterGrace: a request still running after the grace is cut
// and Serve says so.
func TestServeCutsAfterGrace(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, srv, ln, 50*time.Millisecond, nil) }()
	go http.Get("http://" + ln.Addr().String())
	<-started
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Serve = %v, want the cut reported", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the grace")
	}
}
