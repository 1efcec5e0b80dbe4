// Package asctest runs a local stand-in for the App Store Connect API, for
// tests. It is strict where the real API is: every request must carry a
// valid ES256 token for the server's key (alg, kid, typ, iss, aud, and a
// lifetime of at most 20 minutes, checked against the public key), paths,
// query parameters, content type and JSON:API bodies must be what Apple
// documents, and it answers with JSON:API documents, including error
// answers with an errors array. It records every call.
package asctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Server is a running fake App Store Connect.
type Server struct {
	URL      string
	KeyID    string
	IssuerID string
	AppID    string
	Key      *ecdsa.PrivateKey // the team key the server trusts
	// PageSize is how many territories one list page holds (default 3),
	// so that clients must follow pagination links.
	PageSize int

	t   testing.TB
	now func() time.Time

	mu          sync.Mutex
	expectBad   bool
	violations  []string
	calls       []Call
	territories []*territory
	failures    []failure
}

// Call is one request the server answered.
type Call struct {
	Method, Path, Query string
	Body                string
	Status              int
}

type territory struct {
	id, code  string
	available bool
}

type failure struct {
	method string
	status int
	code   string
	detail string
}

// Start runs a server for app "1234567890" available in the given
// territories (ISO 3166-1 alpha-3 codes, as Apple uses), with a fresh key.
func Start(t testing.TB, territories ...string) *Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{KeyID: "2X9R4HXF34", IssuerID: "57246542-96fe-1a63-e053-0824d011072a",
		AppID: "1234567890", Key: key, PageSize: 3, t: t, now: time.Now}
	for _, code := range territories {
		s.territories = append(s.territories, &territory{id: "ta-" + code, code: code, available: true})
	}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// WriteKey writes the key as a .p8 file (PKCS#8 PEM) into dir.
func (s *Server) WriteKey(t testing.TB, dir string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(s.Key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "AuthKey_"+s.KeyID+".p8")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// SetUnavailable marks territories as already unavailable.
func (s *Server) SetUnavailable(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tr := range s.territories {
		for _, c := range codes {
			if tr.code == c {
				tr.available = false
			}
		}
	}
}

// FailNext makes the next request with method answer status with one error
// (as App Store Connect does, e.g. 409 ENTITY_ERROR or 500
// UNEXPECTED_ERROR) and change nothing.
func (s *Server) FailNext(method string, status int, code, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{method, status, code, detail})
}

// Calls returns the requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Patches counts the successful PATCH requests per territory code.
func (s *Server) Patches() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.calls {
		if c.Method == http.MethodPatch && c.Status == http.StatusOK {
			for _, tr := range s.territories {
				if c.Path == "/v1/territoryAvailabilities/"+tr.id {
					out[tr.code]++
				}
			}
		}
	}
	return out
}

// Available lists the territories where the app is available now.
func (s *Server) Available() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, tr := range s.territories {
		if tr.available {
			out = append(out, tr.code)
		}
	}
	return out
}

// ExpectBadRequests stops requests that break the API's rules from
// failing the test; they are still refused and listed by Violations. For
// tests that send bad requests on purpose.
func (s *Server) ExpectBadRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expectBad = true
}

// Violations lists the requests refused for breaking the API's rules.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Server) violation(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	expect := s.expectBad
	s.mu.Unlock()
	if !expect {
		s.t.Errorf("fake App Store Connect: %s", msg)
	}
}

func (s *Server) String() string { return fmt.Sprintf("fake App Store Connect at %s", s.URL) }
