package fleet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// DefaultThroughputPerVCPU is the bytes per second one vCPU of a shard is
// assumed to export, source to destination: 50 MB/s.
//
// Measured with the project's own export on the 2-vCPU x86-64 development
// machine, on a generated archive (BenchmarkExportThroughput, and the built
// binary under /usr/bin/time; see the README, "Running the export on a fleet"): folder to folder
// 233 to 491 MB/s per vCPU (fresh destination on disk, or page cache warm);
// S3 to S3 through versitygw on loopback, the server sharing the same two
// cores, 95 to 120 MB/s per vCPU. Real S3 adds TLS, per-request network
// latency and the instance's bandwidth limit (every byte crosses the
// network twice), none of which a loopback run pays, so the default is
// well under half the S3 figure. A trial shard's run report gives the
// real figure: pass it as --throughput-per-vcpu.
const DefaultThroughputPerVCPU = 50e6

// DefaultDeadline is the deadline when none is given.
const DefaultDeadline = 24 * time.Hour

// Options tune a recommendation. The zero value of every field means "use
// the default".
type Options struct {
	// ThroughputPerVCPU is bytes per second per vCPU. Default
	// DefaultThroughputPerVCPU.
	ThroughputPerVCPU float64
	// Deadline is when the whole export must be done. Default 24h.
	Deadline time.Duration
	// Headroom is the share of the deadline kept spare for Spot reclaims,
	// retries and slow starts: the plan aims to finish in the rest.
	// Default 0.25.
	Headroom float64
	// WorkersPerVCPU is the export's --workers per vCPU. Default
	// export.WorkersPerCPU, the export's own default.
	WorkersPerVCPU int
	// RequestLatency is how long one S3 round trip keeps a worker waiting.
	// Default 50ms: an assumption, not a measurement.
	RequestLatency time.Duration
	// MaxPartSize is the export's --max-part-size (0: one zip per user).
	MaxPartSize int64
	// Remux says the export will remux HLS replays (ffmpeg found and
	// --remux not never): their playlists and segments are read twice.
	Remux bool
	// Instances are the sizes to choose from, smallest first. Default C7g().
	Instances []InstanceType
	// PreferredVCPUs is the instance size tried first for fleets of more
	// than one shard: large enough to amortise the OS and agent, small
	// enough that Spot capacity is plentiful. Default 8.
	PreferredVCPUs int
	// MaxShards caps the shard count. Default 10,000, the largest AWS
	// Batch array.
	MaxShards int
}

func (o Options) withDefaults() Options {
	if o.ThroughputPerVCPU <= 0 {
		o.ThroughputPerVCPU = DefaultThroughputPerVCPU
	}
	if o.Deadline <= 0 {
		o.Deadline = DefaultDeadline
	}
	if o.Headroom <= 0 || o.Headroom >= 1 {
		o.Headroom = 0.25
	}
	if o.WorkersPerVCPU <= 0 {
		o.WorkersPerVCPU = export.WorkersPerCPU
	}
	if o.RequestLatency <= 0 {
		o.RequestLatency = 50 * time.Millisecond
	}
	if len(o.Instances) == 0 {
		o.Instances = C7g()
	}
	if o.PreferredVCPUs <= 0 {
		o.PreferredVCPUs = 8
	}
	if o.MaxShards <= 0 {
		o.MaxShards = 10_000
	}
	return o
}

// Recommendation is the fleet Recommend proposes and why.
type Recommendation struct {
	Catalog     *Catalog    `json:"catalog"`
	Assumptions Assumptions `json:"assumptions"`

	Shards          int          `json:"shards"`
	Instance        InstanceType `json:"instance"`
	WorkersPerShard int          `json:"workers_per_shard"`
	JobMemoryMiB    int64        `json:"job_memory_mib"`
	MemoryBudget    int64        `json:"memory_budget_bytes"`
	FleetVCPUs      int          `json:"fleet_vcpus"`

	ExportBytes  int64     `json:"export_bytes"`
	FullestShard ShardLoad `json:"fullest_shard"`
	// LargestUserHours is how long the largest user takes on its own: one
	// worker exports a user, so no shard count makes the run shorter.
	LargestUserHours float64 `json:"largest_user_hours"`
	Hours            float64 `json:"estimated_hours"`
	// Bound says what sets Hours: "bytes", "requests" or "largest user".
	Bound       string  `json:"bound"`
	TargetHours float64 `json:"target_hours"`
	// FitsDeadline reports Hours within TargetHours, the deadline less
	// its headroom.
	FitsDeadline   bool    `json:"fits_deadline"`
	VCPUHours      float64 `json:"vcpu_hours"`
	TimeoutSeconds int64   `json:"timeout_seconds"`

	Requests Requests `json:"s3_requests"`
	Notes    []string `json:"notes,omitempty"`
}

// Assumptions are the inputs of the arithmetic, after defaults.
type Assumptions struct {
	ThroughputPerVCPU float64 `json:"throughput_per_vcpu_bytes"`
	DeadlineHours     float64 `json:"deadline_hours"`
	Headroom          float64 `json:"headroom"`
	WorkersPerVCPU    int     `json:"workers_per_vcpu"`
	RequestLatencyMS  float64 `json:"request_latency_ms"`
	MaxPartSize       int64   `json:"max_part_size"`
	Remux             bool    `json:"remux"`
}

// ShardLoad is one shard's share of the work.
type ShardLoad struct {
	Index      int     `json:"index"`
	Users      float64 `json:"users"`
	Bytes      int64   `json:"export_bytes"`
	RoundTrips int64   `json:"round_trips"`
	Hours      float64 `json:"hours"`
}

// Plan scans src and recommends a fleet for it.
func Plan(ctx context.Context, src blob.Store, opts Options) (*Recommendation, error) {
	c, err := ScanFor(ctx, src, opts.requestOptions())
	if err != nil {
		return nil, err
	}
	return Recommend(c, opts)
}

// Recommend sizes a fleet for the catalog: the instance size and shard
// count that finish the export within the deadline less its headroom.
func Recommend(c *Catalog, opts Options) (*Recommendation, error) {
	if c == nil {
		return nil, errors.New("no catalog")
	}
	o := opts.withDefaults()
	if c.requests != o.requestOptions() {
		return nil, fmt.Errorf("catalog counted for an export with %+v, not %+v: scan it again", c.requests, o.requestOptions())
	}
	w := newWorkload(c, o)
	r := &Recommendation{
		Catalog: c,
		Assumptions: Assumptions{
			ThroughputPerVCPU: o.ThroughputPerVCPU, DeadlineHours: o.Deadline.Hours(),
			Headroom: o.Headroom, WorkersPerVCPU: o.WorkersPerVCPU,
			RequestLatencyMS: float64(o.RequestLatency) / float64(time.Millisecond), MaxPartSize: o.MaxPartSize,
			Remux: o.Remux,
		},
		ExportBytes:    w.bytes,
		TargetHours:    o.Deadline.Hours() * (1 - o.Headroom),
		TimeoutSeconds: int64(o.Deadline / time.Second),
	}
	s := w.choose(o, r.TargetHours*3600)
	r.Shards, r.Instance = s.shards, s.instance
	r.WorkersPerShard = s.instance.VCPUs * o.WorkersPerVCPU
	r.JobMemoryMiB = s.instance.JobMemoryMiB()
	// Two part buffers per worker, one filling while one is sent, at
	// most half the job's memory.
	r.MemoryBudget = min(int64(r.WorkersPerShard)*2*blob.FirstPartSize(0), r.JobMemoryMiB<<20/2)
	r.FleetVCPUs = s.shards * s.instance.VCPUs
	r.FullestShard = s.fullest
	r.LargestUserHours = w.largestSeconds / 3600
	r.Hours, r.Bound = s.fullest.Hours, s.bound
	if r.LargestUserHours > r.Hours {
		r.Hours, r.Bound = r.LargestUserHours, "largest user"
	}
	r.FitsDeadline = r.Hours <= r.TargetHours
	r.VCPUHours = s.busySeconds * float64(s.instance.VCPUs) / 3600
	r.Requests = w.requests
	r.Requests.addShards(int64(s.shards))
	r.Requests.total()
	r.Notes = notes(r)
	return r, nil
}

// workload is the per-user work, computed once for every candidate fleet.
type workload struct {
	c          *Catalog
	perUser    []userWork
	empty      userWork // each user without broadcasts
	bytes      int64    // export bytes of all users
	roundTrips int64
	requests   Requests // all users, without the per-shard costs
	// largestSeconds is the longest any one user takes on one worker.
	largestSeconds float64
	rate, latency  float64
}

type userWork struct {
	id         string
	bytes      int64 // export bytes
	roundTrips int64 // requests a worker waits on, one after another
}

func newWorkload(c *Catalog, o Options) *workload {
	w := &workload{c: c, rate: o.ThroughputPerVCPU, latency: o.RequestLatency.Seconds()}
	renewal := export.ClaimRenewal(export.DefaultClaimTTL)
	add := func(id string, req export.UserRequests, n int64) userWork {
		var one Requests
		one.addUser(req)
		u := userWork{id: id, bytes: req.Bytes, roundTrips: one.roundTrips()}
		one.Claims += renewals(req.Bytes, w.rate, renewal) // in the background: no round trips
		w.requests.add(one, n)
		w.bytes += n * u.bytes
		w.roundTrips += n * u.roundTrips
		w.largestSeconds = max(w.largestSeconds, u.seconds(w.rate, w.latency))
		return u
	}
	for _, s := range c.users {
		w.perUser = append(w.perUser, add(s.id, s.req, 1))
	}
	if n := int64(c.EmptyUsers()); n > 0 {
		w.empty = add("", export.FirstExportRequests("", nil, c.requests), n)
	}
	return w
}

// seconds is how long one user keeps one worker busy when the worker has a
// vCPU's throughput to itself.
func (u userWork) seconds(rate, latency float64) float64 {
	return float64(u.bytes)/rate + float64(u.roundTrips)*latency
}

// sizing is one candidate fleet.
type sizing struct {
	instance    InstanceType
	shards      int
	fullest     ShardLoad
	bound       string
	busySeconds float64 // sum over shards of the time each runs
}

// choose picks the fleet: a single smaller instance when one is enough,
// else the fewest shards of the preferred size (or the next larger size
// when even the most shards are not enough) that meet the target.
func (w *workload) choose(o Options, target float64) sizing {
	var last sizing
	for _, it := range o.Instances {
		maxShards := min(o.MaxShards, max(1, w.c.Users))
		if it.VCPUs < o.PreferredVCPUs {
			maxShards = 1 // below the preferred size, only a one-shard fleet
		}
		s := w.size(it, maxShards, o.WorkersPerVCPU, target)
		if s.fullest.Hours*3600 <= target {
			return s
		}
		if it.VCPUs >= o.PreferredVCPUs {
			last = s
		}
	}
	if last.shards == 0 { // no size at or above the preferred one
		last = w.size(o.Instances[len(o.Instances)-1], 1, o.WorkersPerVCPU, target)
	}
	return last
}

// size finds the fewest shards of one instance type whose fullest shard
// meets the target, starting from the even split and growing the count
// in proportion to the overrun, since hashing users never splits evenly.
func (w *workload) size(it InstanceType, maxShards, workersPerVCPU int, target float64) sizing {
	workers := float64(it.VCPUs * workersPerVCPU)
	even := max(float64(w.bytes)/(float64(it.VCPUs)*w.rate), float64(w.roundTrips)*w.latency/workers)
	n := min(maxShards, max(1, int(math.Ceil(even/target))))
	for round := 1; ; round++ {
		s := w.loads(it, n, workers)
		if s.fullest.Hours*3600 <= target || n >= maxShards {
			return s
		}
		grow := int(math.Ceil(float64(n) * s.fullest.Hours * 3600 / target))
		if round > 16 { // creeping up one shard at a time: take bigger steps
			grow = max(grow, n+n/20)
		}
		n = min(maxShards, max(n+1, grow))
	}
}

// loads assigns users to n shards exactly as the export does and returns
// the fullest. Users without broadcasts are spread evenly: their ids are
// not kept, and there are usually many of them, which hashing spreads well.
func (w *workload) loads(it InstanceType, n int, workers float64) sizing {
	bytes := make([]int64, n)
	trips := make([]int64, n)
	users := make([]float64, n)
	for _, u := range w.perUser {
		i := export.ShardOf(u.id, n)
		bytes[i] += u.bytes
		trips[i] += u.roundTrips
		users[i]++
	}
	empty := float64(w.c.EmptyUsers()) / float64(n)
	s := sizing{instance: it, shards: n}
	for i := range n {
		b := float64(bytes[i]) + empty*float64(w.empty.bytes)
		t := float64(trips[i]) + empty*float64(w.empty.roundTrips)
		byteSec := b / (float64(it.VCPUs) * w.rate)
		tripSec := t * w.latency / workers
		sec := max(byteSec, tripSec)
		s.busySeconds += sec
		if i == 0 || sec > s.fullest.Hours*3600 {
			s.fullest = ShardLoad{Index: i, Users: users[i] + empty, Bytes: int64(b), RoundTrips: int64(t), Hours: sec / 3600}
			s.bound = "bytes"
			if tripSec > byteSec {
				s.bound = "requests"
			}
		}
	}
	return s
}

// roundTrips are the requests of one user that a worker waits on one after
// another: all but the parts (sent in parallel while the zip streams) and
// the claim renewals (sent in the background, and not counted in r yet):
// the claim's PUT and DELETE are waited on.
func (r Requests) roundTrips() int64 {
	return r.SourceGet + r.SourceList + r.DestGet + r.DestPut + r.Multipart + r.DestList + r.Claims + r.DestDelete
}

// add adds n times one user's requests.
func (r *Requests) add(one Requests, n int64) {
	r.SourceGet += n * one.SourceGet
	r.SourceList += n * one.SourceList
	r.DestGet += n * one.DestGet
	r.DestPut += n * one.DestPut
	r.Multipart += n * one.Multipart
	r.Parts += n * one.Parts
	r.DestList += n * one.DestList
	r.Claims += n * one.Claims
	r.DestDelete += n * one.DestDelete
}

func notes(r *Recommendation) []string {
	var out []string
	c := r.Catalog
	if c.Users == 0 {
		out = append(out, "users.jsonl lists no usable user: there is nothing to export")
	}
	if r.Bound == "largest user" && !r.FitsDeadline {
		out = append(out, fmt.Sprintf("the largest user (%s) alone takes %.1f h on one worker, more than the %.1f h target: "+
			"more shards cannot help; start that user first in a job of its own (--users FILE) or move the deadline",
			c.Largest.ID, r.LargestUserHours, r.TargetHours))
	} else if !r.FitsDeadline {
		out = append(out, fmt.Sprintf("even %d shards of %s do not meet the %.1f h target: move the deadline "+
			"or measure a higher --throughput-per-vcpu", r.Shards, r.Instance.Name, r.TargetHours))
	}
	if r.Shards == 1 {
		out = append(out, "one shard: on AWS Batch submit it without arrayProperties (an array needs at least 2 jobs)")
	}
	if c.UnusableLines > 0 {
		out = append(out, fmt.Sprintf("%d users.jsonl lines are unusable or duplicates: the export reports each as failed (exit code 3)",
			c.UnusableLines))
	}
	if c.Orphans.Users > 0 {
		out = append(out, fmt.Sprintf("%d folders under broadcasts/ belong to no user in users.jsonl and will not be exported",
			c.Orphans.Users))
	}
	if c.StrayKeys > 0 {
		out = append(out, fmt.Sprintf("%d objects under broadcasts/ are outside any broadcast folder and will not be exported",
			c.StrayKeys))
	}
	return out
}

func (o Options) requestOptions() export.RequestOptions {
	return export.RequestOptions{MaxPartSize: o.MaxPartSize, Remux: o.Remux}
}
