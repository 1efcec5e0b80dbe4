package sunset

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func TestVerifySignups(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		ok      bool
		problem string
	}{
		{"gated", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Sunset", "Wed, 31 Mar 2027 07:00:00 GMT")
			w.WriteHeader(http.StatusGone)
			w.Write([]byte(`{"code":"signups_closed","message":"closed"}`))
		}, true, ""},
		{"open", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }, false, "201 Created"},
		{"validation error", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnprocessableEntity) }, false, "422"},
		{"410 without Sunset", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) }, false, "no Sunset header"},
		{"Sunset not an HTTP-date", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Sunset", "2027-03-31")
			w.WriteHeader(http.StatusGone)
		}, false, "not an HTTP-date"},
		{"redirect is not proof", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/closed", http.StatusFound)
		}, false, "302"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotMethod, gotBody string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotMethod = r.Method
				b := make([]byte, 200)
				n, _ := r.Body.Read(b)
				gotBody = string(b[:n])
				tc.handler(w, r)
			}))
			defer srv.Close()
			st, _ := blob.NewFile(t.TempDir())
			s := Open(st, Options{Actor: "ana"})
			res, err := s.VerifySignups(context.Background(), ProbeRequest{Endpoint: "http://user:secret@" + srv.Listener.Addr().String() + "/signup?token=abc"})
			var pf *ProbeFailedError
			if tc.ok != (err == nil) || (!tc.ok && !errors.As(err, &pf)) {
				t.Fatalf("VerifySignups = %+v, %v; want ok %v", res, err, tc.ok)
			}
			if !tc.ok && !strings.Contains(res.Problem, tc.problem) {
				t.Errorf("problem %q, want it to mention %q", res.Problem, tc.problem)
			}
			if gotMethod != "POST" || !strings.Contains(gotBody, "probe") {
				t.Errorf("probe sent %s %q", gotMethod, gotBody)
			}
			events, _ := s.Audit(context.Background())
			if len(events) != 1 || events[0].Action != "signups.verify" {
				t.Fatalf("audit = %+v, want one signups.verify", events)
			}
			raw := string(events[0].After) + events[0].Subject
			if strings.Contains(raw, "secret") || strings.Contains(raw, "token=abc") {
				t.Errorf("the audit entry leaks credentials from the URL: %s", raw)
			}
		})
	}
}
