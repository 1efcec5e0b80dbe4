package fleet

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText prints the recommendation for a person: every figure with the
// reason for it.
func (r *Recommendation) WriteText(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	r.writeCatalog(w)
	r.writeHistogram(w)
	r.writeFleet(w)
	r.writeRequests(w)
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	return w.Flush()
}

func (r *Recommendation) writeCatalog(w io.Writer) {
	c := r.Catalog
	fmt.Fprintf(w, "Catalog of %s (%s requests: users.jsonl and one listing of broadcasts/; no media read)\n",
		c.Source, count(c.ScanRequests))
	fmt.Fprintf(w, "  users\t%s\tin users.jsonl: %s with broadcasts, %s without (each still gets an export)\n",
		count(int64(c.Users)), count(int64(c.UsersWithBroadcasts)), count(int64(c.EmptyUsers())))
	fmt.Fprintf(w, "  broadcasts\t%s\t\n", count(c.Broadcasts))
	fmt.Fprintf(w, "  source objects\t%s\t%s in all, every one copied into its user's export\n",
		count(c.Files), byteSize(c.Bytes))
	if c.Largest.ID != "" {
		fmt.Fprintf(w, "  largest user\t%s\t%s in %s objects\n", c.Largest.ID, byteSize(c.Largest.Bytes), count(c.Largest.Files))
	}
	if c.ProblemCount > 0 {
		fmt.Fprintf(w, "  problems\t%s\trefused or omitted by the export, each costing only itself (the rest is planned):\n",
			count(c.ProblemCount))
		for _, p := range c.Problems {
			fmt.Fprintf(w, "    %s: %s\n", p.Key, p.Reason)
		}
		if int64(len(c.Problems)) < c.ProblemCount {
			fmt.Fprintf(w, "    ... and %s more (plan --json lists the first %d)\n", count(c.ProblemCount-int64(len(c.Problems))), len(c.Problems))
		}
	}
	if c.Orphans.Users > 0 {
		fmt.Fprintf(w, "  not exported\t%s\tfolders under broadcasts/ of users not in users.jsonl: %s objects, %s\n",
			count(int64(c.Orphans.Users)), count(c.Orphans.Files), byteSize(c.Orphans.Bytes))
	}
}

func (r *Recommendation) writeHistogram(w io.Writer) {
	h := r.Catalog.Histogram
	if len(h) == 0 {
		return
	}
	fmt.Fprintln(w, "\nUsers by source size (power-of-4 buckets; # is users)")
	most := 0
	for _, b := range h {
		most = max(most, b.Users)
	}
	for _, b := range h {
		label := "nothing"
		if b.Max > 0 {
			label = byteSize(b.Min) + " - " + byteSize(b.Max)
		}
		bar := strings.Repeat("#", (b.Users*40+most-1)/most)
		fmt.Fprintf(w, "  %s\t%s\t%s\n", label, count(int64(b.Users)), bar)
	}
}

func (r *Recommendation) writeFleet(w io.Writer) {
	a := r.Assumptions
	it := r.Instance
	fmt.Fprintf(w, "\nRecommended fleet (deadline %s; planned to finish in %s, keeping %.0f%% for Spot reclaims and retries)\n",
		hours(a.DeadlineHours), hours(r.TargetHours), a.Headroom*100)
	fmt.Fprintf(w, "  shards\t%d\t--shard-count %d: the AWS Batch array size, and the Kubernetes Job's completions and parallelism\n",
		r.Shards, r.Shards)
	fmt.Fprintf(w, "  instance\t%s\t%d vCPU, %d GiB, one shard per instance; %s\n", it.Name, it.VCPUs, it.MemoryGiB, r.whyInstance())
	fmt.Fprintf(w, "  workers\t%d\t--workers: %d per vCPU, since a worker spends much of its time waiting on S3\n",
		r.WorkersPerShard, a.WorkersPerVCPU)
	fmt.Fprintf(w, "  job memory\t%d MiB\t7/8 of the instance; the rest is for the OS and the ECS agent or kubelet\n", r.JobMemoryMiB)
	fmt.Fprintf(w, "  memory budget\t%s\t--memory-budget: two 8 MiB part buffers per worker, at most half the job memory\n",
		byteSize(r.MemoryBudget))
	fmt.Fprintf(w, "  fleet\t%d vCPU\tat once: the account's Spot quota for standard instances (A, C, D, H, I, M, R, T, Z) must allow it\n",
		r.FleetVCPUs)
	fmt.Fprintf(w, "  throughput\t%s MB/s\tper vCPU (--throughput-per-vcpu; the default comes from the project's benchmark, see the README), %s MB/s per shard\n",
		mbps(a.ThroughputPerVCPU), mbps(a.ThroughputPerVCPU*float64(it.VCPUs)))
	fmt.Fprintf(w, "  export size\t%s\tthe source plus about 4 KiB per user and 256 B per file of zip headers, viewer and BagIt files\n",
		byteSize(r.ExportBytes))
	fs := r.FullestShard
	fmt.Fprintf(w, "  estimated time\t%s\tset by %s: %s\n", hours(r.Hours), r.Bound, r.whyHours())
	fmt.Fprintf(w, "  fullest shard\t#%d\t%s users, %s, %s requests waited on in turn; %s\n",
		fs.Index, count(int64(fs.Users+0.5)), byteSize(fs.Bytes), count(fs.RoundTrips), hours(fs.Hours))
	if r.Catalog.Largest.ID != "" {
		fmt.Fprintf(w, "  largest user\t%s\t%s on one worker at one vCPU's throughput: one worker exports a whole user\n",
			hours(r.LargestUserHours), r.Catalog.Largest.ID)
	}
	fmt.Fprintf(w, "  vCPU-hours\t%s\twhat the fleet is billed for when each instance stops as its shard ends\n",
		strconv.FormatFloat(r.VCPUHours, 'f', 1, 64))
	fmt.Fprintf(w, "  timeout\t%d s\tattemptDurationSeconds (Batch) and activeDeadlineSeconds (Kubernetes): the deadline\n",
		r.TimeoutSeconds)
}

func (r *Recommendation) whyInstance() string {
	if r.Shards == 1 && r.Instance.VCPUs < 8 {
		return "the smallest size that does it all in one shard"
	}
	return "large enough to amortise the OS and agent, small enough for plentiful Spot capacity"
}

func (r *Recommendation) whyHours() string {
	a := r.Assumptions
	switch r.Bound {
	case "largest user":
		return fmt.Sprintf("one worker exports %s (%s) alone", r.Catalog.Largest.ID, byteSize(r.Catalog.Largest.Bytes))
	case "requests":
		return fmt.Sprintf("the fullest shard's requests at %.0f ms each, %d at a time (one per worker)",
			a.RequestLatencyMS, r.WorkersPerShard)
	}
	return fmt.Sprintf("the fullest shard's bytes at %s MB/s (users go to shards by a hash of their id, so shards are uneven)",
		mbps(a.ThroughputPerVCPU*float64(r.Instance.VCPUs)))
}

func (r *Recommendation) writeRequests(w io.Writer) {
	q := r.Requests
	fmt.Fprintln(w, "\nS3 requests of a first run (a rerun costs only each user's LIST, broadcast.json GETs and manifest GET for the users already done)")
	rows := []struct {
		name string
		n    int64
		why  string
	}{
		{"source GET", q.SourceGet, "one per source object, each broadcast.json twice (plan, then copy), users.jsonl twice per shard"},
		{"source LIST", q.SourceList, "one ListObjectsV2 page per 1,000 objects in a user's folder, at least one per user"},
		{"manifest GET", q.DestGet, "one per user: is its export already done?"},
		{"single PUT", q.DestPut, "uploads under the first part size (8 MiB): small zips, and every manifest.json"},
		{"multipart", q.Multipart, "CreateMultipartUpload + CompleteMultipartUpload for each zip of 8 MiB or more"},
		{"parts", q.Parts, "UploadPart: 8 MiB parts, larger for zips over about 70 GiB so they fit 9,000 parts"},
		{"dest LIST", q.DestList, "none on a first run; a re-exported user, or one retried after a kill, adds two"},
		{"claims", q.Claims, "per user, one lease PUT (then a DELETE, which S3 does not charge), renewed every 20 s while its export is written"},
		{"run reports", q.Reports, "one PUT per shard"},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", row.name, count(row.n), row.why)
	}
	fmt.Fprintf(w, "  total\t%s\t%s PUT/POST/LIST-class and %s GET-class requests; multiply by your region's prices\n",
		count(q.Total), count(q.PutClass), count(q.GetClass))
}

// byteSize formats a size in binary units: 0 B, 512 B, 1 KiB, 1.5 GiB.
func byteSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n) / 1024
	u := 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + units[u]
}

// count formats an integer with thousands separators: 1,234,567.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// hours formats a duration given in hours: 18.5 h, 12 min, 4 s.
func hours(h float64) string {
	switch {
	case h >= 1:
		return strconv.FormatFloat(h, 'f', 1, 64) + " h"
	case h*60 >= 1:
		return strconv.FormatFloat(h*60, 'f', 0, 64) + " min"
	}
	return strconv.FormatFloat(h*3600, 'f', 0, 64) + " s"
}

// mbps formats bytes per second as MB/s (10^6 bytes) to 4 significant
// digits: 50, 400, 0.001.
func mbps(bytesPerSecond float64) string {
	return strconv.FormatFloat(bytesPerSecond/1e6, 'g', 4, 64)
}
