package metrics

import (
	"net/http"
	"regexp"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// Namespace prefixes every metric name.
const Namespace = "periscope_sunset"

// Registry holds one process's collectors. The zero value is not usable;
// call New.
type Registry struct {
	reg *prometheus.Registry
	own []prometheus.Collector // ours, for Describe

	exportUsers   *prometheus.CounterVec
	exportBytes   prometheus.Counter
	usersInFlight prometheus.Gauge
	s3Requests    *prometheus.CounterVec
	s3Retries     *prometheus.CounterVec
	s3Throttles   *prometheus.CounterVec
	portal        *prometheus.CounterVec
	notifyUsers   *prometheus.CounterVec
	gateDecisions *prometheus.CounterVec
	budgetInUse   prometheus.GaugeFunc
	budgetLimit   prometheus.GaugeFunc
}

// New returns a registry with the process and Go runtime collectors and
// every periscope-sunset metric (series appear once they have a value).
// budget, when not nil, is reported as the upload bytes in flight.
func New(budget *blob.Budget) *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(sub, name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: sub, Name: name, Help: help}, labels)
		r.add(c)
		return c
	}
	r.exportUsers = counter("export", "users_total", "Users finished by this process, by outcome (exported, skipped, failed).", "outcome")
	r.exportBytes = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "export", Name: "bytes_total",
		Help: "Export bytes packed by this process."})
	r.usersInFlight = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "export", Name: "users_in_flight",
		Help: "Users whose export is running now."})
	r.add(r.exportBytes, r.usersInFlight)
	r.s3Requests = counter("s3", "requests_total", "S3 HTTP attempts (retries included) by operation and status (0: no response).", "operation", "status")
	r.s3Retries = counter("s3", "retries_total", "S3 attempts that failed in a way the SDK retries (no response, 429, 5xx).", "operation")
	r.s3Throttles = counter("s3", "throttles_total", "S3 attempts refused as throttled (503 SlowDown, 429).", "operation")
	r.portal = counter("portal", "responses_total", "Download portal responses by HTTP status.", "status")
	r.notifyUsers = counter("notify", "users_total", "Users handled by notify, by status (sent, failed, already-sent, ...).", "status")
	r.gateDecisions = counter("gate", "decisions_total", "Sign-up gate decisions by route and outcome (allowed, refused).", "route", "outcome")
	if budget != nil {
		r.budgetInUse = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "upload_bytes_in_flight",
			Help: "Bytes held in upload buffers now (memory budget in use)."}, func() float64 { return float64(budget.Used()) })
		r.budgetLimit = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: "memory_budget_bytes",
			Help: "The memory budget for upload buffers (--memory-budget)."}, func() float64 { return float64(budget.Limit()) })
		r.add(r.budgetInUse, r.budgetLimit)
	}
	return r
}

func (r *Registry) add(cs ...prometheus.Collector) {
	r.reg.MustRegister(cs...)
	r.own = append(r.own, cs...)
}

// Register adds more collectors (the dashboard's fleet numbers).
func (r *Registry) Register(c prometheus.Collector) error {
	if err := r.reg.Register(c); err != nil {
		return err
	}
	r.own = append(r.own, c)
	return nil
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

// Names lists the name of every periscope-sunset metric the registry
// can report, series or not: what alert rules and dashboards may use.
func (r *Registry) Names() []string {
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range r.own {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names = append(names, m[1])
		}
	}
	return names
}

// fqName finds the name in a Desc's String (Desc has no accessor).
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// S3Request is a blob.S3Config.OnRequest hook.
func (r *Registry) S3Request(op string, status int) {
	r.s3Requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	if status == 0 || status == http.StatusTooManyRequests || status >= 500 {
		r.s3Retries.WithLabelValues(op).Inc()
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		r.s3Throttles.WithLabelValues(op).Inc()
	}
}

// GateDecision counts one sign-up gate decision; it is the gate's
// Options.OnDecision (signups gate --metrics-listen).
func (r *Registry) GateDecision(route, outcome string) {
	r.gateDecisions.WithLabelValues(route, outcome).Inc()
}

func fmtShard(i, n int) string { return strconv.Itoa(i) + "/" + strconv.Itoa(n) }
