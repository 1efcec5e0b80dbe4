package s3test

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
)

// ReverseProxy forwards requests to an S3 server unchanged, keeping the
// client's Host header, which SigV4 signed: the base of the tests'
// recording, counting and fault-injecting proxies.
func ReverseProxy(t testing.TB, upstream string) *httputil.ReverseProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	return &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
	}}
}

// ServeLoopback serves h on a free loopback port until the test ends and
// returns its http:// URL.
func ServeLoopback(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
