package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// result is one measured run.
type result struct {
	Workload string
	Row      string // tool, or tool and setting (workers, shards, destination)
	Ours     bool
	Round    int
	Bytes    int64 // source bytes copied
	U        usage
	Out      listing
}

func (r result) mbps() float64 { return float64(r.Bytes) / 1e6 / r.U.Wall.Seconds() }

func (r result) cpuPerGB() float64 { return r.U.CPU().Seconds() / (float64(r.Bytes) / 1e9) }

func (r result) serverPerGB() float64 { return r.U.ServerCPU.Seconds() / (float64(r.Bytes) / 1e9) }

// summary is the medians of one row of one workload.
type summary struct {
	Workload, Row string
	Ours          bool
	Runs          int
	Bytes         int64
	Wall          time.Duration
	MBps          float64
	CPUPerGB      float64
	ServerPerGB   float64
	MaxRSSMiB     float64 // the largest peak over the row's runs
	SumRSSMiB     float64
}

func summarize(rs []result) []summary {
	var out []summary
	var order []string
	groups := map[string][]result{}
	for _, r := range rs {
		k := r.Workload + "\x00" + r.Row
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	for _, k := range order {
		g := groups[k]
		s := summary{Workload: g[0].Workload, Row: g[0].Row, Ours: g[0].Ours, Runs: len(g), Bytes: g[0].Bytes}
		walls := make([]float64, len(g))
		cpus := make([]float64, len(g))
		srvs := make([]float64, len(g))
		for i, r := range g {
			walls[i], cpus[i], srvs[i] = r.U.Wall.Seconds(), r.cpuPerGB(), r.serverPerGB()
			s.MaxRSSMiB = max(s.MaxRSSMiB, float64(r.U.MaxRSSKiB)/1024)
			s.SumRSSMiB = max(s.SumRSSMiB, float64(r.U.SumRSSKiB)/1024)
		}
		s.Wall = time.Duration(median(walls) * float64(time.Second))
		s.MBps = float64(s.Bytes) / 1e6 / s.Wall.Seconds()
		s.CPUPerGB, s.ServerPerGB = median(cpus), median(srvs)
		out = append(out, s)
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// table is rendered as aligned text for the terminal and as markdown for
// RESULTS.md.
type table struct {
	title string
	head  []string
	rows  [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) text(w io.Writer) {
	fmt.Fprintf(w, "\n%s\n", t.title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(t.head, "\t")+"\t")
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
}

func (t *table) markdown(w io.Writer) {
	fmt.Fprintf(w, "\n**%s**\n\n| %s |\n|", t.title, strings.Join(t.head, " | "))
	for i := range t.head {
		if i == 0 {
			fmt.Fprint(w, " --- |")
		} else {
			fmt.Fprint(w, " ---: |")
		}
	}
	fmt.Fprintln(w)
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}

// tables are the summary per workload, our ratios against each peer, and
// the raw runs.
func tables(rs []result, rounds int) []*table {
	sums := summarize(rs)
	main := &table{
		title: fmt.Sprintf("Per tool and workload (median of %d alternating runs; MB = 10^6 bytes of source; CPU = user+sys of the client process)", rounds),
		head:  []string{"workload", "tool", "runs", "source MB", "wall s", "MB/s", "CPU s/GB", "peak RSS MiB", "server CPU s/GB"},
	}
	for _, s := range sums {
		rss := f1(s.MaxRSSMiB)
		if s.SumRSSMiB > s.MaxRSSMiB+0.5 {
			rss += " (sum " + f1(s.SumRSSMiB) + ")"
		}
		main.add(s.Workload, s.Row, fmt.Sprint(s.Runs), f1(float64(s.Bytes)/1e6), f2(s.Wall.Seconds()),
			f1(s.MBps), f2(s.CPUPerGB), rss, f2(s.ServerPerGB))
	}
	ratios := &table{
		title: "Ours against each peer (throughput: ours MB/s ÷ peer MB/s, higher is better; CPU/GB: ours ÷ peer, lower is better)",
		head:  []string{"workload", "peer", "throughput ratio", "CPU/GB ratio"},
	}
	for _, o := range sums {
		if !o.Ours || strings.Contains(o.Row, "(") {
			continue // only the plain row of ours faces the peers
		}
		for _, p := range sums {
			if p.Workload == o.Workload && !p.Ours {
				ratios.add(o.Workload, p.Row, fmt.Sprintf("%.2fx", o.MBps/p.MBps), fmt.Sprintf("%.2fx", o.CPUPerGB/p.CPUPerGB))
			}
		}
	}
	raw := &table{
		title: "Raw runs",
		head:  []string{"workload", "round", "tool", "wall s", "MB/s", "user s", "sys s", "CPU s/GB", "peak RSS MiB", "server CPU s", "objects written"},
	}
	for _, r := range rs {
		raw.add(r.Workload, fmt.Sprint(r.Round), r.Row, f2(r.U.Wall.Seconds()), f1(r.mbps()),
			f2(r.U.User.Seconds()), f2(r.U.Sys.Seconds()), f2(r.cpuPerGB()), f1(float64(r.U.MaxRSSKiB)/1024),
			f2(r.U.ServerCPU.Seconds()), fmt.Sprint(r.Out.Objects))
	}
	out := []*table{main}
	if len(ratios.rows) > 0 {
		out = append(out, ratios)
	}
	return append(out, raw)
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
