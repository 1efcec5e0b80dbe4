// Package s3count is a loopback reverse proxy for tests that stands in
// front of a real S3 server and records every request that passes, named
// by bucket, S3 operation and key, so a test can count what a run sent
// class by class. It changes nothing on the way; it expects path-style
// addressing (http://host/bucket/key), which is what the tests use.
package s3count

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// Request is one request the proxy passed on.
type Request struct {
	Method string
	Bucket string
	Key    string
	Op     string // the S3 operation, e.g. GetObject, UploadPart
	// Conditional names the precondition header sent with a write:
	// "If-None-Match", "If-Match" or "".
	Conditional string
	Status      int // the server's answer
}

// Proxy is a running counting proxy.
type Proxy struct {
	URL string // http://127.0.0.1:port, to use as the S3 endpoint

	mu    sync.Mutex
	seen  []Request
	proxy *httputil.ReverseProxy
}

// Start runs a proxy to upstream until the test ends.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p := &Proxy{proxy: s3test.ReverseProxy(t, upstream)}
	p.URL = s3test.ServeLoopback(t, p)
	return p
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	p.proxy.ServeHTTP(rec, r)
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	req := Request{Method: r.Method, Bucket: bucket, Key: key, Op: Operation(r), Status: rec.status}
	for _, h := range []string{"If-None-Match", "If-Match"} {
		if r.Header.Get(h) != "" {
			req.Conditional = h
		}
	}
	p.mu.Lock()
	p.seen = append(p.seen, req)
	p.mu.Unlock()
}

// Requests returns what the proxy passed so far, in order of completion.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.seen...)
}

// Reset forgets the requests seen so far.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = nil
}

// Summary counts requests by bucket and operation, for test logs.
func Summary(reqs []Request) string {
	n := map[string]int{}
	for _, r := range reqs {
		n[r.Bucket+" "+r.Op]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d\n", k, n[k])
	}
	return b.String()
}

// Operation names the S3 operation of a path-style request from its
// method, query and headers; one it does not know is "METHOD ?query".
func Operation(r *http.Request) string {
	q := r.URL.Query()
	q.Del("x-id") // the AWS SDK names some operations in the query; the shape decides here
	has := func(k string) bool { _, ok := q[k]; return ok }
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	switch r.Method {
	case http.MethodGet:
		switch {
		case q.Get("list-type") == "2":
			return "ListObjectsV2"
		case has("uploads"):
			return "ListMultipartUploads"
		case has("uploadId"):
			return "ListParts"
		case key == "" && len(q) == 0:
			return "ListObjects"
		case key != "" && len(q) == 0:
			return "GetObject"
		}
	case http.MethodHead:
		if key == "" {
			return "HeadBucket"
		}
		return "HeadObject"
	case http.MethodPut:
		switch {
		case has("partNumber") && has("uploadId") && copySource:
			return "UploadPartCopy"
		case has("partNumber") && has("uploadId"):
			return "UploadPart"
		case key != "" && copySource:
			return "CopyObject"
		case key != "" && len(q) == 0:
			return "PutObject"
		case key == "" && len(q) == 0:
			return "CreateBucket"
		}
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		case has("delete"):
			return "DeleteObjects"
		}
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case key != "" && len(q) == 0:
			return "DeleteObject"
		}
	}
	return r.Method + " ?" + r.URL.RawQuery
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
