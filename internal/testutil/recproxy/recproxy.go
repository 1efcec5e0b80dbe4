// Package recproxy is a loopback reverse proxy for tests that stands in
// front of a real S3 server and records every request (method, path,
// query, headers) with the status it got, so a test can assert what the
// tool sent. It can also flip one byte of chosen request bodies, as a
// faulty network between the tool and S3 would.
package recproxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// Request is one recorded request.
type Request struct {
	Method   string
	Path     string
	Query    url.Values
	Header   http.Header
	Status   int  // the upstream's answer (0 if none)
	Tampered bool // a body byte was flipped on the way
}

// Op names the S3 operation of the request, from its method and query,
// for the operations the tool makes.
func (r Request) Op() string {
	q := r.Query
	switch {
	case r.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case r.Method == http.MethodPut:
		return "PutObject"
	case r.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case r.Method == http.MethodDelete:
		return "DeleteObject"
	case r.Method == http.MethodGet && q.Has("uploads"):
		return "ListMultipartUploads"
	case r.Method == http.MethodGet && q.Get("list-type") == "2":
		return "ListObjectsV2"
	case r.Method == http.MethodGet:
		return "GetObject"
	case r.Method == http.MethodHead && bucketOnly(r.Path):
		return "HeadBucket"
	case r.Method == http.MethodHead:
		return "HeadObject"
	}
	return r.Method
}

// bucketOnly reports a path-style path naming just a bucket.
func bucketOnly(p string) bool {
	return !strings.Contains(strings.Trim(p, "/"), "/")
}

// Proxy is a running recording proxy.
type Proxy struct {
	URL string // http://127.0.0.1:port, to use as the S3 endpoint

	// Tamper, when set, is asked about every request before it is
	// forwarded; for those it accepts, the middle byte of the body is
	// flipped. Set it before the first request.
	Tamper func(Request) bool

	mu   sync.Mutex
	reqs []Request
}

// Start runs a proxy to upstream until the test ends.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p := &Proxy{}
	rp := s3test.ReverseProxy(t, upstream)
	rp.ModifyResponse = func(resp *http.Response) error {
		p.setStatus(resp.Request.Context().Value(seqKey{}).(int), resp.StatusCode)
		return nil
	}
	p.URL = s3test.ServeLoopback(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seq, err := p.record(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r.WithContext(withSeq(r.Context(), seq)))
	}))
	return p
}

// record keeps r and, if Tamper asks for it, flips a byte of its body.
func (p *Proxy) record(r *http.Request) (int, error) {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()}
	if p.Tamper != nil && r.ContentLength > 0 && p.Tamper(req) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return 0, err
		}
		body[len(body)/2] ^= 0x01
		r.Body = io.NopCloser(bytes.NewReader(body))
		req.Tampered = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = append(p.reqs, req)
	return len(p.reqs) - 1, nil
}

func (p *Proxy) setStatus(seq, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs[seq].Status = status
}

// Requests returns a copy of what was recorded so far.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.reqs)
}

// Reset forgets what was recorded.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reqs = nil
}

type seqKey struct{}

func withSeq(ctx context.Context, seq int) context.Context {
	return context.WithValue(ctx, seqKey{}, seq)
}
