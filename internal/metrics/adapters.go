package metrics

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/notify"
)

// Export wraps an export.Progress (the bar or log lines) so that the run's
// events also feed the registry.
func (r *Registry) Export(next export.Progress) export.Progress {
	return &exportProgress{r: r, next: next}
}

type exportProgress struct {
	r        *Registry
	next     export.Progress
	inFlight sync.Map // user id -> struct{}: begun, not done
}

var _ export.Beginner = (*exportProgress)(nil)

func (p *exportProgress) Start(users int) { p.next.Start(users) }

func (p *exportProgress) Begin(user string) {
	p.inFlight.Store(user, struct{}{})
	p.r.usersInFlight.Inc()
}

func (p *exportProgress) Bytes(n int64) {
	p.r.exportBytes.Add(float64(n))
	p.next.Bytes(n)
}

func (p *exportProgress) Done(o export.Outcome) {
	// Users refused before a worker took them (bad lines, duplicates)
	// were never in flight.
	if _, ok := p.inFlight.LoadAndDelete(o.User); ok {
		p.r.usersInFlight.Dec()
	}
	p.r.exportUsers.WithLabelValues(string(o.Status)).Inc()
	p.next.Done(o)
}

// Notify wraps a notify.Progress so that each user's status is counted.
func (r *Registry) Notify(next notify.Progress) notify.Progress {
	return notifyProgress{r: r, next: next}
}

type notifyProgress struct {
	r    *Registry
	next notify.Progress
}

func (p notifyProgress) Start(users int) { p.next.Start(users) }

func (p notifyProgress) Done(o notify.Outcome) {
	p.r.notifyUsers.WithLabelValues(string(o.Status)).Inc()
	p.next.Done(o)
}

// Portal wraps the download portal's handler to count responses by status.
func (r *Registry) Portal(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, req)
		r.portal.WithLabelValues(strconv.Itoa(sw.status)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushes,
// deadlines for long downloads).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
