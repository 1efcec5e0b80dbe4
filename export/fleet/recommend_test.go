package fleet

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// catalogOf builds a catalog as Scan would from users with broadcasts and a
// number of users without.
func catalogOf(users []*userStat, empty int) *Catalog {
	c := &Catalog{Source: "test"}
	for _, u := range users {
		u.joined = true
		if u.req == (export.UserRequests{}) {
			u.req = modelRequests(u)
		}
		c.add(u)
	}
	c.Users += empty
	c.Histogram = histogram(c.users, empty)
	return c
}

// modelRequests is the first export the hand-worked figures below assume
// of a user: its files in broadcast folders, broadcast.json read twice, and
// a zip of its source bytes plus 4,096 bytes and 256 per file, uploaded by
// the S3 store's rule. The export's own count (export.FirstExportRequests)
// is checked against a real export by the planner test in
// cmd/periscope-sunset; these tests check the fleet arithmetic on top.
func modelRequests(u *userStat) export.UserRequests {
	size := u.bytes + 4096 + 256*u.files
	put, mp, parts := blob.UploadRequests(size, size)
	return export.UserRequests{
		SourceGet: u.files + u.broadcasts, SourceList: blob.ListRequests(u.files), DestGet: 1,
		DestPut: put + 1, Multipart: mp, Parts: parts, Claims: 1, DestDelete: 1, Bytes: size,
	}
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

// Every expected figure below is worked out by hand in the comments, from
// the model the package documents: a shard takes the longer of its export
// bytes / (vCPUs × throughput) and its round trips × latency / workers, and
// the run takes the longest shard or the largest user on one worker.
func TestRecommend(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cat   *Catalog
		opts  Options
		check func(t *testing.T, r *Recommendation)
	}{
		{
			// 10 million users with nothing: 6 round trips each at 50 ms
			// is 0.3 s, 3,000,000 worker-seconds in all. One c7g.large
			// (8 workers) needs 375,000 s and one xlarge (16) 187,500 s,
			// both over the 18 h (64,800 s) target; the 2xlarge has 32
			// workers: 93,750 s / 64,800 s = 1.45, so 2 shards of
			// 5,000,000 users, 46,875 s = 13.02 h each. Their bytes,
			// 4,096 per user, take only 51.2 s at 400 MB/s.
			name: "many users without broadcasts are bound by requests",
			cat:  catalogOf(nil, 10_000_000),
			check: func(t *testing.T, r *Recommendation) {
				want(t, "instance", r.Instance.Name, "c7g.2xlarge")
				want(t, "shards", r.Shards, 2)
				want(t, "bound", r.Bound, "requests")
				wantNear(t, "hours", r.Hours, 46_875.0/3600)
				wantNear(t, "target hours", r.TargetHours, 18)
				want(t, "fits", r.FitsDeadline, true)
				want(t, "workers", r.WorkersPerShard, 32)
				want(t, "fleet vCPUs", r.FleetVCPUs, 16)
				want(t, "job memory", r.JobMemoryMiB, int64(14_336)) // 16 GiB × 7/8
				want(t, "memory budget", r.MemoryBudget, int64(512*mib))
				wantNear(t, "vCPU-hours", r.VCPUHours, 2*46_875.0*8/3600)
				want(t, "timeout", r.TimeoutSeconds, int64(86_400))
				want(t, "export bytes", r.ExportBytes, int64(40_960_000_000))
				// Per user: LIST, manifest GET, claim, zip PUT, manifest
				// PUT (and the claim's DELETE, not charged). Per shard:
				// users.jsonl twice, a report.
				want(t, "requests", r.Requests, Requests{
					SourceGet: 4, SourceList: 10_000_000, DestGet: 10_000_000, DestPut: 20_000_000,
					Claims: 10_000_000, Reports: 2, DestDelete: 10_000_000,
					PutClass: 40_000_002, GetClass: 10_000_004, Total: 50_000_006,
				})
			},
		},
		{
			// 30 million such users are 9,000,000 worker-seconds. With at
			// most 2 shards: 2xlarge 140,625 s and 4xlarge (64 workers)
			// 70,312.5 s per shard miss the target; 8xlarge (128 workers)
			// takes 35,156.25 s = 9.77 h.
			name: "too few shards allowed moves up an instance size",
			cat:  catalogOf(nil, 30_000_000),
			opts: Options{MaxShards: 2},
			check: func(t *testing.T, r *Recommendation) {
				want(t, "instance", r.Instance.Name, "c7g.8xlarge")
				want(t, "shards", r.Shards, 2)
				wantNear(t, "hours", r.Hours, 35_156.25/3600)
				want(t, "workers", r.WorkersPerShard, 128)
				want(t, "job memory", r.JobMemoryMiB, int64(57_344)) // 64 GiB × 7/8
				want(t, "memory budget", r.MemoryBudget, int64(2<<30))
			},
		},
		{
			// 100 million users are 30,000,000 worker-seconds: one shard
			// of the largest size (256 workers) takes 117,187.5 s = 32.55 h.
			name: "a deadline no fleet meets says so",
			cat:  catalogOf(nil, 100_000_000),
			opts: Options{MaxShards: 1},
			check: func(t *testing.T, r *Recommendation) {
				want(t, "instance", r.Instance.Name, "c7g.16xlarge")
				want(t, "shards", r.Shards, 1)
				wantNear(t, "hours", r.Hours, 117_187.5/3600)
				want(t, "fits", r.FitsDeadline, false)
				wantNote(t, r, "even 1 shards of c7g.16xlarge do not meet the 18.0 h target")
			},
		},
		{
			// One user of 1,000 files, 100 broadcasts, whose export is
			// exactly 3.6e12 bytes (source 3.6e12 - 4,096 - 256,000). At
			// 50 MB/s on one worker: 72,000 s, plus 1,107 round trips (1,100
			// GETs, a list, the manifest GET, manifest PUT, create and
			// complete, the claim and its release) × 50 ms = 55.35 s: 20.015 h,
			// over the 18 h target. Its shard on a c7g.large (100 MB/s)
			// takes 36,000 s = 10 h, so one small instance is enough.
			name: "the largest user sets the time",
			cat: catalogOf([]*userStat{{id: "whale", files: 1000, broadcasts: 100,
				bytes: 3_600_000_000_000 - 4096 - 256_000}}, 0),
			check: func(t *testing.T, r *Recommendation) {
				want(t, "instance", r.Instance.Name, "c7g.large")
				want(t, "shards", r.Shards, 1)
				want(t, "bound", r.Bound, "largest user")
				wantNear(t, "largest user hours", r.LargestUserHours, 72_055.35/3600)
				wantNear(t, "hours", r.Hours, 72_055.35/3600)
				wantNear(t, "fullest shard hours", r.FullestShard.Hours, 10)
				want(t, "fits", r.FitsDeadline, false)
				wantNote(t, r, "the largest user (whale) alone takes 20.0 h")
				// 382 MiB parts (see TestUploadRequests); a renewal every
				// 20 s of the 72,000 s stream.
				want(t, "parts", r.Requests.Parts, int64(8988))
				want(t, "claims", r.Requests.Claims, int64(1+3600))
			},
		},
		{
			// A 48 h deadline with 50% headroom targets 24 h (86,400 s).
			// Four users whose exports are exactly 250 GB (no files, so
			// only the 4,096-byte overhead) are 1e12 bytes: at 10 MB/s per
			// vCPU one c7g.large (20 MB/s) takes 50,000 s, which fits.
			// Each user alone takes 25,000 s on one worker.
			name: "deadline, headroom and throughput come from the options",
			cat: catalogOf([]*userStat{
				{id: "a", bytes: 250e9 - 4096, files: 0}, {id: "b", bytes: 250e9 - 4096, files: 0},
				{id: "c", bytes: 250e9 - 4096, files: 0}, {id: "d", bytes: 250e9 - 4096, files: 0},
			}, 0),
			opts: Options{Deadline: 48 * time.Hour, Headroom: 0.5, ThroughputPerVCPU: 10e6},
			check: func(t *testing.T, r *Recommendation) {
				wantNear(t, "target hours", r.TargetHours, 24)
				want(t, "instance", r.Instance.Name, "c7g.large")
				want(t, "bound", r.Bound, "bytes")
				want(t, "export bytes", r.ExportBytes, int64(1e12))
				// Round trips: 4 users × 7 (list, manifest GET, claim and
				// release, create and complete, manifest PUT) × 50 ms / 8
				// workers = 0.175 s, far under the bytes' 50,000 s.
				wantNear(t, "hours", r.Hours, 50_000.0/3600)
				wantNear(t, "largest user hours", r.LargestUserHours, (25_000+7*0.05)/3600)
				want(t, "timeout", r.TimeoutSeconds, int64(172_800))
			},
		},
		{
			name: "empty catalog",
			cat:  catalogOf(nil, 0),
			check: func(t *testing.T, r *Recommendation) {
				want(t, "shards", r.Shards, 1)
				want(t, "hours", r.Hours, 0.0)
				wantNote(t, r, "nothing to export")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Recommend(tc.cat, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

// TestShardsFollowTheExportsHash checks the byte-bound case against an
// independent count: users go to shards by export.ShardOf, so the fullest
// shard is recomputed here from the documented export size (source + 4 KiB
// per user + 256 B per file), and one shard fewer must miss the target.
func TestShardsFollowTheExportsHash(t *testing.T) {
	var users []*userStat
	for i := range 3000 {
		users = append(users, &userStat{id: fmt.Sprintf("u%05d", i), files: 10, broadcasts: 2,
			bytes: int64(1+i%97) * 3 << 30}) // 3 to 291 GiB
	}
	c := catalogOf(users, 0)
	r, err := Recommend(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "instance", r.Instance.Name, "c7g.2xlarge")
	want(t, "bound", r.Bound, "bytes")
	if !r.FitsDeadline {
		t.Fatalf("does not fit: %+v", r)
	}
	fullest := func(n int) (int, int64) {
		per := make([]int64, n)
		for _, u := range users {
			per[export.ShardOf(u.id, n)] += u.bytes + 4096 + 256*u.files
		}
		best := 0
		for i := range per {
			if per[i] > per[best] {
				best = i
			}
		}
		return best, per[best]
	}
	idx, bytes := fullest(r.Shards)
	want(t, "fullest shard", r.FullestShard.Index, idx)
	want(t, "fullest shard bytes", r.FullestShard.Bytes, bytes)
	wantNear(t, "hours", r.FullestShard.Hours, float64(bytes)/400e6/3600)
	if _, fewer := fullest(r.Shards - 1); float64(fewer)/400e6 <= 18*3600 {
		t.Errorf("%d shards would do (fullest %d bytes), but %d were recommended", r.Shards-1, fewer, r.Shards)
	}
	var total int64
	for _, u := range users {
		total += u.bytes + 4096 + 256*u.files
	}
	if mean := total / int64(r.Shards); r.FullestShard.Bytes < mean {
		t.Errorf("fullest shard %d bytes under the mean %d", r.FullestShard.Bytes, mean)
	}
}

func TestHistogram(t *testing.T) {
	users := []*userStat{{id: "a", bytes: 5}, {id: "b", bytes: 6}, {id: "c", bytes: 100}, {id: "z", bytes: 0}}
	got := histogram(users, 2)
	want(t, "histogram", fmt.Sprint(got), fmt.Sprint([]Bucket{
		{Min: 0, Max: 0, Users: 3, Bytes: 0},      // 2 users without broadcasts + one with empty files
		{Min: 4, Max: 16, Users: 2, Bytes: 11},    // 5 and 6
		{Min: 16, Max: 64, Users: 0, Bytes: 0},    // the gap shows
		{Min: 64, Max: 256, Users: 1, Bytes: 100}, // 100
	}))
	if h := histogram(nil, 0); len(h) != 0 {
		t.Errorf("empty histogram: %v", h)
	}
}

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantNear(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !near(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantNote(t *testing.T, r *Recommendation, text string) {
	t.Helper()
	for _, n := range r.Notes {
		if strings.Contains(n, text) {
			return
		}
	}
	t.Errorf("no note says %q; notes: %q", text, r.Notes)
}
