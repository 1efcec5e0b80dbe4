// Package faultproxy is a loopback HTTP proxy for tests that stands in
// front of a real S3 server and injects the faults a long export meets in
// production: 503 SlowDown, 500 InternalError, connections reset before an
// answer, GET bodies cut off midway, and latency. Faults are drawn from a
// seeded generator at a set rate, so a failing run can be replayed.
package faultproxy

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// Kind is one kind of injected fault.
type Kind int

const (
	SlowDown Kind = iota // 503 with an S3 SlowDown error body
	Internal             // 500 with an S3 InternalError body
	Reset                // connection closed before any answer
	CutBody              // a GET's body cut off halfway (the request reached S3)
	Latency              // the request is delayed, then served
	// LostAnswer serves the request (S3's state changes), then drops the
	// connection before the answer reaches the client, as a network that
	// fails after S3 has committed a write. Only when Config.Kinds asks.
	LostAnswer
	numKinds
)

// defaultKinds are the faults injected when Config.Kinds is empty.
var defaultKinds = []Kind{SlowDown, Internal, Reset, CutBody, Latency}

func (k Kind) String() string {
	return [...]string{"SlowDown", "InternalError", "Reset", "CutBody", "Latency", "LostAnswer"}[k]
}

// Config sets what the proxy injects.
type Config struct {
	Rate       float64       // share of requests that get a fault, 0..1
	Seed       uint64        // seeds the fault generator
	MaxLatency time.Duration // upper bound of an injected delay (default 200ms)
	Kinds      []Kind        // the faults to draw from, evenly (default: all but LostAnswer)
	// Match, when set, limits faults to the requests it accepts; the
	// others pass untouched and draw nothing.
	Match func(*http.Request) bool
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	URL      string // http://127.0.0.1:port, to use as the S3 endpoint
	requests atomic.Int64
	faults   [numKinds]atomic.Int64

	cfg   Config
	mu    sync.Mutex
	rng   *rand.Rand
	proxy *httputil.ReverseProxy
}

// Start runs a proxy to upstream until the test ends.
func Start(t testing.TB, upstream string, cfg Config) *Proxy {
	t.Helper()
	if cfg.MaxLatency <= 0 {
		cfg.MaxLatency = 200 * time.Millisecond
	}
	if len(cfg.Kinds) == 0 {
		cfg.Kinds = defaultKinds
	}
	p := &Proxy{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	p.proxy = s3test.ReverseProxy(t, upstream)
	p.URL = s3test.ServeLoopback(t, p)
	return p
}

// Requests is the number of requests seen.
func (p *Proxy) Requests() int64 { return p.requests.Load() }

// Faults is the number of faults of kind k injected.
func (p *Proxy) Faults(k Kind) int64 { return p.faults[k].Load() }

// Summary describes what was injected, for test logs.
func (p *Proxy) Summary() string {
	s := fmt.Sprintf("%d requests", p.Requests())
	for k := range numKinds {
		s += fmt.Sprintf(", %d %s", p.Faults(k), k)
	}
	return s
}

// draw picks the fault for one request, or -1 for none.
func (p *Proxy) draw(method string) (Kind, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rng.Float64() >= p.cfg.Rate {
		return -1, 0
	}
	k := p.cfg.Kinds[p.rng.IntN(len(p.cfg.Kinds))]
	if k == CutBody && method != http.MethodGet {
		k = Reset // only reads can be cut after the fact without changing S3's state
	}
	return k, time.Duration(p.rng.Int64N(int64(p.cfg.MaxLatency)))
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	if p.cfg.Match != nil && !p.cfg.Match(r) {
		p.proxy.ServeHTTP(w, r)
		return
	}
	kind, delay := p.draw(r.Method)
	if kind >= 0 {
		p.faults[kind].Add(1)
	}
	switch kind {
	case SlowDown:
		s3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
	case Internal:
		s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case Reset:
		io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case CutBody:
		p.proxy.ServeHTTP(&cutWriter{ResponseWriter: w}, r)
	case Latency:
		time.Sleep(delay)
		p.proxy.ServeHTTP(w, r)
	case LostAnswer:
		p.proxy.ServeHTTP(&swallowWriter{header: http.Header{}}, r)
		panic(http.ErrAbortHandler) // S3 answered; the client never hears it
	default:
		p.proxy.ServeHTTP(w, r)
	}
}

// swallowWriter takes an answer and keeps it from the client.
type swallowWriter struct{ header http.Header }

func (s *swallowWriter) Header() http.Header         { return s.header }
func (s *swallowWriter) Write(b []byte) (int, error) { return len(b), nil }
func (s *swallowWriter) WriteHeader(int)             {}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>faultproxy</RequestId></Error>`, code, msg)
}

// cutWriter passes the status and headers on, then the first half of the
// body (by Content-Length), then drops the connection.
type cutWriter struct {
	http.ResponseWriter
	limit, written int64
	status         int
}

func (c *cutWriter) WriteHeader(status int) {
	c.status = status
	c.limit = -1
	if n := c.Header().Get("Content-Length"); n != "" {
		fmt.Sscan(n, &c.limit)
		c.limit /= 2
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *cutWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.status >= 300 || c.limit < 0 {
		return c.ResponseWriter.Write(b)
	}
	if room := c.limit - c.written; int64(len(b)) > room {
		c.ResponseWriter.Write(b[:max(room, 0)])
		if f, ok := c.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler)
	}
	c.written += int64(len(b))
	return c.ResponseWriter.Write(b)
}
