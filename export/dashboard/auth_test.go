package dashboard_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export/dashboard"
)

func TestDashboardCheckListen(t *testing.T) {
	auth, err := dashboard.ParseAuth([]byte("0123456789abcdef0123\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addr string
		auth *dashboard.Auth
		ok   bool
	}{
		{"127.0.0.1:8090", nil, true},
		{"[::1]:8090", nil, true},
		{"localhost:8090", nil, true},
		{"127.1.2.3:0", nil, true},
		{":8090", nil, false}, // every interface
		{"0.0.0.0:8090", nil, false},
		{"[::]:8090", nil, false},
		{"10.0.0.5:8090", nil, false},
		{"dashboard.internal:8090", nil, false}, // a name may resolve anywhere
		{"localhost.evil.example:8090", nil, false},
		{"0.0.0.0:8090", auth, true},
	} {
		err := dashboard.CheckListen(c.addr, c.auth)
		if (err == nil) != c.ok {
			t.Errorf("CheckListen(%q, auth %v) = %v, want ok %v", c.addr, c.auth != nil, err, c.ok)
		}
		if err != nil && c.ok == false && !errors.Is(err, dashboard.ErrNeedAuth) {
			t.Errorf("CheckListen(%q): %v, want ErrNeedAuth", c.addr, err)
		}
	}
}

func TestDashboardParseAuth(t *testing.T) {
	for _, bad := range []string{"", "short", "user:short", ":nouser-password-long", "a\nb", "tok en\r\nx"} {
		if _, err := dashboard.ParseAuth([]byte(bad)); err == nil {
			t.Errorf("ParseAuth(%q) accepted", bad)
		} else if strings.Contains(err.Error(), bad) && bad != "" {
			t.Errorf("ParseAuth(%q): the error repeats the secret: %v", bad, err)
		}
	}
}

func TestDashboardAuth(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("page")) })
	bearer, _ := dashboard.ParseAuth([]byte("0123456789abcdef0123\n"))
	basic, _ := dashboard.ParseAuth([]byte("ops:correct horse battery"))
	for _, c := range []struct {
		name   string
		auth   *dashboard.Auth
		set    func(*http.Request)
		status int
	}{
		{"bearer right", bearer, func(r *http.Request) { r.Header.Set("Authorization", "Bearer 0123456789abcdef0123") }, 200},
		{"bearer wrong", bearer, func(r *http.Request) { r.Header.Set("Authorization", "Bearer 0123456789abcdef0124") }, 401},
		{"bearer prefix", bearer, func(r *http.Request) { r.Header.Set("Authorization", "Bearer 0123456789abcdef012") }, 401},
		{"bearer longer", bearer, func(r *http.Request) { r.Header.Set("Authorization", "Bearer 0123456789abcdef01234") }, 401},
		{"bearer as basic", bearer, func(r *http.Request) { r.SetBasicAuth("0123456789abcdef0123", "") }, 401},
		{"none", bearer, func(*http.Request) {}, 401},
		{"basic right", basic, func(r *http.Request) { r.SetBasicAuth("ops", "correct horse battery") }, 200},
		{"basic wrong password", basic, func(r *http.Request) { r.SetBasicAuth("ops", "correct horse batterx") }, 401},
		{"basic wrong user", basic, func(r *http.Request) { r.SetBasicAuth("opz", "correct horse battery") }, 401},
		{"basic empty", basic, func(r *http.Request) { r.SetBasicAuth("", "") }, 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := dashboard.Handler(dashboard.NewCollector(dashboard.Options{}), ok, c.auth)
			for _, path := range []string{"/", "/metrics"} {
				req := httptest.NewRequest("GET", path, nil)
				c.set(req)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != c.status {
					t.Errorf("GET %s: %d, want %d", path, rec.Code, c.status)
				}
				if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("GET %s: 401 without WWW-Authenticate", path)
				}
			}
		})
	}
	// Health checks pass without credentials and say nothing else.
	rec := httptest.NewRecorder()
	dashboard.Handler(dashboard.NewCollector(dashboard.Options{}), ok, bearer).ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("/healthz: %d %q", rec.Code, rec.Body)
	}
}

func TestDashboardRedact(t *testing.T) {
	for in, want := range map[string]string{
		"mail bob@example.com now":                  "mail [address hidden] now",
		`line 3: "x.y+z@sub.example.org"`:           `line 3: "[address hidden]"`,
		"GET /u/u1?token=abc.def&part=1":            "GET /u/u1?token=[hidden]&part=1",
		"https://b.s3/k?X-Amz-Signature=ff00&x=1":   "https://b.s3/k?X-Amz-Signature=[hidden]&x=1",
		"no secrets here: user u000001, 3 failures": "no secrets here: user u000001, 3 failures",
	} {
		if got := dashboard.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
