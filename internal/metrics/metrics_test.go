package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/metrics"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/faultproxy"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
	"github.com/periscope-sunset/periscope-sunset/sunset/gate"
)

// TestMetricsMatchTheRunReport exports to versitygw through a proxy that
// throttles and fails some requests, scrapes /metrics over HTTP, parses it
// with Prometheus's text parser and checks it against the run report and
// the proxy's own counts.
func TestMetricsMatchTheRunReport(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	proxy := faultproxy.Start(t, srv.Endpoint, faultproxy.Config{Rate: 0.3, Seed: 3})
	src, err := blob.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.Generate(ctx, src, fixtures.Options{Users: 20, Broadcasts: 2, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	budget := blob.NewBudget(32 << 20)
	reg := metrics.New(budget)
	dst := storeVia(t, srv, bucket, proxy.URL, blob.S3Config{Budget: budget, OnRequest: reg.S3Request})
	rep, err := export.Run(ctx, src, dst, export.Options{Workers: 3, Progress: reg.Export(export.NopProgress{})})
	if err != nil {
		t.Fatalf("export: %v (proxy: %s)", err, proxy.Summary())
	}
	fams := scrape(t, reg)

	if got := value(t, fams, "periscope_sunset_export_users_total", "outcome", "exported"); got != float64(rep.Users.Exported) || got != 20 {
		t.Errorf("users exported: metric %v, report %d", got, rep.Users.Exported)
	}
	if got := value(t, fams, "periscope_sunset_export_bytes_total"); got != float64(rep.Bytes) {
		t.Errorf("bytes: metric %v, report %d", got, rep.Bytes)
	}
	if got := value(t, fams, "periscope_sunset_export_users_in_flight"); got != 0 {
		t.Errorf("users in flight after the run: %v", got)
	}
	if got := value(t, fams, "periscope_sunset_upload_bytes_in_flight"); got != 0 {
		t.Errorf("upload bytes in flight after the run: %v", got)
	}
	if got := value(t, fams, "periscope_sunset_memory_budget_bytes"); got != 32<<20 {
		t.Errorf("memory budget: %v", got)
	}
	// Every attempt the proxy saw is counted once, retries included, but
	// for one case: a connection reset on a reused keep-alive connection is
	// resent by net/http itself, below the SDK, so the proxy may see up to
	// one more request per reset than the SDK made attempts.
	resets := proxy.Faults(faultproxy.Reset)
	if got := int64(sum(fams, "periscope_sunset_s3_requests_total")); got > proxy.Requests() || got < proxy.Requests()-resets {
		t.Errorf("S3 requests: metric %v, proxy saw %d (%s)", got, proxy.Requests(), proxy.Summary())
	}
	slow := proxy.Faults(faultproxy.SlowDown)
	if slow == 0 {
		t.Fatalf("the proxy injected no SlowDown: %s", proxy.Summary())
	}
	if got := sum(fams, "periscope_sunset_s3_throttles_total"); got != float64(slow) {
		t.Errorf("throttles: metric %v, proxy sent %d SlowDown", got, slow)
	}
	failed := slow + proxy.Faults(faultproxy.Internal) + proxy.Faults(faultproxy.Reset)
	if got := int64(sum(fams, "periscope_sunset_s3_retries_total")); got > failed || got < failed-resets {
		t.Errorf("retries: metric %v, proxy failed %d attempts (%s)", got, failed, proxy.Summary())
	}
	if value(t, fams, "periscope_sunset_s3_requests_total", "operation", "UploadPart", "status", "200")+
		value(t, fams, "periscope_sunset_s3_requests_total", "operation", "PutObject", "status", "200") == 0 {
		t.Errorf("no successful upload counted")
	}
}

// storeVia is the server's bucket reached through a proxy at endpoint.
func storeVia(t *testing.T, srv *s3test.Server, bucket, endpoint string, cfg blob.S3Config) blob.Store {
	t.Helper()
	cfg.Endpoint, cfg.PathStyle, cfg.Region = endpoint, true, srv.Region
	cfg.Credentials = credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")
	s, err := blob.NewS3(context.Background(), bucket, "exports", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMetricsPortalStatuses(t *testing.T) {
	reg := metrics.New(nil)
	h := reg.Portal(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		case "/boom":
			w.WriteHeader(http.StatusBadGateway)
			w.WriteHeader(http.StatusOK) // ignored by net/http; the first status counts
		default:
			w.Write([]byte("ok"))
		}
	}))
	for _, p := range []string{"/", "/", "/gone", "/boom"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	fams := scrape(t, reg)
	for status, want := range map[string]float64{"200": 2, "410": 1, "502": 1} {
		if got := value(t, fams, "periscope_sunset_portal_responses_total", "status", status); got != want {
			t.Errorf("portal %s: %v, want %v", status, got, want)
		}
	}
}

// scrape reads the registry over HTTP as Prometheus would.
func scrape(t *testing.T, reg *metrics.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(reg.Handler())
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the one series of name with the given label pairs (0 when absent).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		return 0
	}
	for _, m := range f.Metric {
		if matches(m, labels) {
			return metricValue(m)
		}
	}
	return 0
}

func sum(fams map[string]*dto.MetricFamily, name string) float64 {
	total := 0.0
	if f := fams[name]; f != nil {
		for _, m := range f.Metric {
			total += metricValue(m)
		}
	}
	return total
}

func matches(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// staticSource is a gate state that never changes.
type staticSource gate.State

func (s staticSource) GateState(context.Context) (gate.State, error) { return gate.State(s), nil }

// TestMetricsGateDecisions runs real requests through the gate with its
// decisions counted, and reads the counts back from a scrape.
func TestMetricsGateDecisions(t *testing.T) {
	reg := metrics.New(nil)
	g := gate.New(staticSource{Blocked: true, Reason: "closing"}, gate.Options{OnDecision: reg.GateDecision})
	if err := g.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("app")) }))
	for _, r := range []*http.Request{
		httptest.NewRequest("POST", "/signup", nil),
		httptest.NewRequest("POST", "/SignUp/", nil),
		httptest.NewRequest("GET", "/feed", nil),
		httptest.NewRequest("GET", "/%0a", nil),
		httptest.NewRequest("GET", "/sunset.json", nil),
	} {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	fams := scrape(t, reg)
	for _, c := range []struct {
		route, outcome string
		want           float64
	}{
		{"signup", "signups_closed", 2},
		{"other", "pass", 1},
		{"other", "bad_path", 1},
		{"status", "answered", 1},
	} {
		if got := value(t, fams, "periscope_sunset_gate_decisions_total", "route", c.route, "outcome", c.outcome); got != c.want {
			t.Errorf("gate %s/%s: %v, want %v", c.route, c.outcome, got, c.want)
		}
	}
}
