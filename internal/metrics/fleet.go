package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/periscope-sunset/periscope-sunset/export/dashboard"
)

// fleet reports the dashboard's cached snapshot: the numbers of the whole
// export, every shard together. A scrape never reads a store.
type fleet struct {
	snap                                                                   func() *dashboard.Snapshot
	users, bytes, runs, shardDone, sent, downloads, blocked, steps, readAt *prometheus.Desc
}

// Fleet returns a collector of the fleet-wide numbers in the snapshots
// that snap returns (nil: nothing read yet).
func Fleet(snap func() *dashboard.Snapshot) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "fleet", name), help, labels, nil)
	}
	return &fleet{snap: snap,
		users:     d("users", "Users of the whole export by state (done, failed, pending, in_flight; with_omissions: done with something left out).", "state"),
		bytes:     d("bytes", "Bytes of finished exports."),
		runs:      d("runs", "Export run reports in the destination."),
		shardDone: d("shard_users_done", "Users done per shard.", "shard"),
		sent:      d("notify_sent", "Emails sent by every notify run."),
		downloads: d("portal_downloads", "Portal downloads in the audit log."),
		blocked:   d("signups_blocked", "1 when the sign-up flag refuses new accounts."),
		steps:     d("runbook_steps", "Runbook steps by state.", "state"),
		readAt:    d("read_timestamp_seconds", "When the dashboard last read the stores (Unix time)."),
	}
}

func (f *fleet) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{f.users, f.bytes, f.runs, f.shardDone, f.sent, f.downloads, f.blocked, f.steps, f.readAt} {
		ch <- d
	}
}

func (f *fleet) Collect(ch chan<- prometheus.Metric) {
	s := f.snap()
	if s == nil {
		return
	}
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	g(f.readAt, float64(s.ReadAt.Unix()))
	if e := s.Export; e != nil {
		g(f.users, float64(e.Done), "done")
		g(f.users, float64(e.Failed), "failed")
		g(f.users, float64(e.Pending), "pending")
		g(f.users, float64(e.InFlight), "in_flight")
		g(f.users, float64(e.WithOmissions), "with_omissions") // also counted in done
		g(f.bytes, float64(e.Bytes))
		g(f.runs, float64(e.Runs))
		for _, sh := range e.Shards {
			g(f.shardDone, float64(sh.Done), fmtShard(sh.Index, sh.Count))
		}
	}
	g(f.sent, float64(s.NotifySent))
	g(f.downloads, float64(s.Downloads))
	blocked := 0.0
	if s.Signups.Blocked {
		blocked = 1
	}
	g(f.blocked, blocked)
	states := map[string]int{}
	for _, st := range s.Steps {
		states[st.State]++
	}
	for st, n := range states {
		g(f.steps, float64(n), st)
	}
}
