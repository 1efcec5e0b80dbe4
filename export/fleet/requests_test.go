package fleet

import (
	"context"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

const mib = 1 << 20

func TestBuckets(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int64
		bucket   int
		min, max int64
	}{
		{"nothing", 0, 0, 0, 0},
		{"one byte", 1, 1, 1, 4},
		{"three bytes", 3, 1, 1, 4},
		{"four bytes starts the next", 4, 2, 4, 16},
		{"fifteen", 15, 2, 4, 16},
		{"just under 1 KiB", 1023, 5, 256, 1024},
		{"1 KiB", 1024, 6, 1024, 4096},
		{"1 MiB", mib, 11, mib, 4 * mib},
		{"5 GiB", 5 << 30, 17, 4 << 30, 16 << 30},
		{"largest int64", 1<<63 - 1, 32, 1 << 62, 1<<63 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := bucketOf(tc.size)
			lo, hi := bucketBounds(k)
			if k != tc.bucket || lo != tc.min || hi != tc.max {
				t.Errorf("size %d: bucket %d [%d, %d), want %d [%d, %d)", tc.size, k, lo, hi, tc.bucket, tc.min, tc.max)
			}
		})
	}
}

// Plan adds up, for every user of users.jsonl, the export's own count of
// its first export from that user's listing (export.FirstExportRequests),
// and the per-run requests once per shard. Users are listed one by one
// here, the way the export lists them; Scan cuts one listing of the
// whole archive at the user boundaries instead.
func TestPlanRequestsAreTheExportsCount(t *testing.T) {
	ctx := context.Background()
	src := writeTree(t, `{"id":"alice"}`+"\n"+`{"id":"bob"}`+"\n"+`{"id":"carol"}`+"\n", map[string]int{
		"broadcasts/alice/b1/broadcast.json":    10,
		"broadcasts/alice/b1/replay.mp4":        1000,
		"broadcasts/alice/b2/broadcast.json":    10,
		"broadcasts/alice/b2/hls/playlist.m3u8": 50,
		"broadcasts/alice/b2/hls/s0.ts":         3000,
		"broadcasts/alice/b2/hls/s1.ts":         3000,
		"broadcasts/alice-b/b1/broadcast.json":  10, // sorts between alice's keys and bob's
		"broadcasts/alice-b/b1/replay.mp4":      9 << 20,
		"broadcasts/bob/b1/broadcast.json":      20,
		"broadcasts/bob/b1/replay.mp4":          2 << 20,
		"broadcasts/bob/b2/thumbnail.jpg":       20,
		"broadcasts/bob/b3/broadcast.json":      20,
	})
	for _, opts := range []Options{{}, {Remux: true}, {Remux: true, MaxPartSize: 1 << 20}} {
		r, err := Plan(ctx, src, opts)
		if err != nil {
			t.Fatal(err)
		}
		var want Requests
		for _, uid := range []string{"alice", "bob", "carol"} {
			var objects []blob.Info
			src.List(ctx, "broadcasts/"+uid+"/", func(i blob.Info) error { objects = append(objects, i); return nil })
			want.addUser(export.FirstExportRequests(uid, objects, opts.requestOptions()))
		}
		want.addShards(int64(r.Shards))
		want.total()
		if r.Requests != want {
			t.Errorf("%+v:\n got %+v\nwant %+v", opts, r.Requests, want)
		}
	}
}

// Claim renewals are the one count that depends on time: one per
// export.ClaimRenewal of a user's stream.
func TestRequestsCountClaimRenewals(t *testing.T) {
	u := &userStat{id: "slow", files: 2, broadcasts: 1, bytes: 10e6}
	c := catalogOf([]*userStat{u}, 0)
	r, err := Recommend(c, Options{ThroughputPerVCPU: 1e4}) // 10,004,608 bytes at 10 kB/s: 1,000.5 s
	if err != nil {
		t.Fatal(err)
	}
	period := export.ClaimRenewal(export.DefaultClaimTTL).Seconds()
	want(t, "claims", r.Requests.Claims, 1+int64(float64(u.req.Bytes)/1e4/period))
	want(t, "claims at 20 s renewals", r.Requests.Claims, int64(1+50))
}

func TestRecommendRefusesACatalogCountedForOtherOptions(t *testing.T) {
	c := &Catalog{requests: export.RequestOptions{MaxPartSize: 1 << 30}}
	if _, err := Recommend(c, Options{}); err == nil || !strings.Contains(err.Error(), "scan it again") {
		t.Errorf("err = %v, want a catalog mismatch", err)
	}
}
