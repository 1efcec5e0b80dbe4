package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/fleet"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3count"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// TestPlanCountsTheRequestsOfARealExport runs real exports against
// versitygw through a proxy that records every request, and asserts that
// plan --json, given the same options, predicted each class of S3
// requests exactly. It is what keeps the planner's model honest whenever
// the export starts reading or writing something more or less often.
func TestPlanCountsTheRequestsOfARealExport(t *testing.T) {
	// Remuxing is on by default when ffmpeg is on PATH, as it is in
	// production images: the HLS users are counted with it.
	need.Program(t, "scripts/install-deps (Debian's ffmpeg)", "ffmpeg")
	srv := s3test.Start(t)
	src := srv.NewBucket(t)
	proxy := s3count.Start(t, srv.Endpoint)
	mixed := fixtures.Options{Users: 6, Broadcasts: 2, VideoBytes: 96 << 10, HLSEvery: 3, Seed: 11}
	large := fixtures.Options{Users: 2, Broadcasts: 2, VideoBytes: 5 << 20, HLSEvery: 4, Seed: 12}
	for _, tc := range []struct {
		name    string
		archive fixtures.Options
		empty   int    // users.jsonl lines added with no broadcasts
		maxPart string // --max-part-size
		remux   string // --remux
	}{
		{name: "mp4-hls-and-empty-users", archive: mixed, empty: 3, maxPart: "0"},
		{name: "multipart-uploads", archive: large, maxPart: "0"}, // 10 MiB zips: two UploadParts each
		{name: "zip-parts", archive: large, empty: 1, maxPart: "4MiB"},
		{name: "only-empty-users", empty: 4, maxPart: "0"},
		{name: "hls-kept-as-is", archive: mixed, maxPart: "0", remux: "never"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.archive.Users > 0 {
				generateS3(t, srv, src, tc.name, tc.archive)
			}
			addEmptyUsers(t, srv.Store(t, src, tc.name), tc.empty)
			dst := srv.NewBucket(t)
			opts := []string{"--max-part-size", tc.maxPart, "--s3-path-style", "--remux", cmp.Or(tc.remux, "auto")}
			plan := planJSON(t, srv.Env(), append([]string{"--source", "s3://" + src + "/" + tc.name}, opts...)...)
			proxy.Reset()
			run(t, srv.Env(), append([]string{"export", "--source", "s3://" + src + "/" + tc.name,
				"--dest", "s3://" + dst + "/out", "--s3-endpoint", proxy.URL, "--workers", "2", "--progress", "none"},
				opts...)...).want(t, 0)
			reqs := proxy.Requests()
			sent, renewals, unplanned := classify(reqs, src, dst)
			if renewals > 0 {
				// Renewals come every 20 s of one user's export; these
				// take well under a second unless the machine stalls.
				t.Logf("%d claim renewals sent: a user took over %s (an overloaded machine?); not compared",
					renewals, export.ClaimRenewal(export.DefaultClaimTTL))
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("sent:\n%s", s3count.Summary(reqs))
			}
			for op, seen := range unplanned {
				t.Errorf("sent %d %s that no class of the plan counts (first: %s): count it in export/requests.go, "+
					"give it a class in export/fleet/requests.go and in classify here", len(seen), op, seen[0])
			}
			compareRequests(t, plan.Requests, sent)
		})
	}
}

// addEmptyUsers appends n users without broadcasts to users.jsonl.
func addEmptyUsers(t *testing.T, s blob.Store, n int) {
	t.Helper()
	if n == 0 {
		return
	}
	ctx := context.Background()
	var body []byte
	if rc, err := s.Get(ctx, export.UsersKey); err == nil {
		body, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.Write(body)
	for i := range n {
		fmt.Fprintf(&b, `{"id":"empty%03d","username":"empty%d","display_name":"Nobody","created_at":"2016-01-01T00:00:00Z"}`+"\n", i, i)
	}
	if _, err := s.Put(ctx, export.UsersKey, strings.NewReader(b.String()), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// classify sorts what the export sent into the plan's classes. Claim
// renewals (conditional on the claim's ETag) are returned apart: they
// depend on time.
func classify(reqs []s3count.Request, src, dst string) (sent fleet.Requests, renewals int64, unplanned map[string][]string) {
	unplanned = map[string][]string{}
	for _, r := range reqs {
		switch {
		case r.Bucket == src && r.Op == "GetObject":
			sent.SourceGet++
		case r.Bucket == src && r.Op == "ListObjectsV2":
			sent.SourceList++
		case r.Bucket == dst && r.Op == "GetObject":
			sent.DestGet++
		case r.Bucket == dst && r.Op == "PutObject" && strings.HasSuffix(r.Key, "/.claim.json"):
			if r.Conditional == "If-Match" {
				renewals++
			} else {
				sent.Claims++
			}
		case r.Bucket == dst && r.Op == "PutObject" && strings.Contains(r.Key, "/"+export.RunsPrefix):
			sent.Reports++
		case r.Bucket == dst && r.Op == "PutObject":
			sent.DestPut++
		case r.Bucket == dst && (r.Op == "CreateMultipartUpload" || r.Op == "CompleteMultipartUpload"):
			sent.Multipart++
		case r.Bucket == dst && r.Op == "UploadPart":
			sent.Parts++
		case r.Bucket == dst && (r.Op == "ListObjectsV2" || r.Op == "ListMultipartUploads"):
			sent.DestList++
		case r.Bucket == dst && r.Op == "DeleteObject":
			sent.DestDelete++
		default:
			unplanned[r.Op+" on "+bucketRole(r.Bucket, src, dst)] = append(unplanned[r.Op+" on "+bucketRole(r.Bucket, src, dst)],
				fmt.Sprintf("%s %s: HTTP %d", r.Method, r.Key, r.Status))
		}
	}
	return sent, renewals, unplanned
}

func bucketRole(b, src, dst string) string {
	switch b {
	case src:
		return "the source"
	case dst:
		return "the destination"
	}
	return "bucket " + b
}

// compareRequests fails for each class the plan got wrong, saying where
// the rule that counts it lives.
func compareRequests(t *testing.T, planned, sent fleet.Requests) {
	t.Helper()
	table := "planned/sent:"
	defer func() { t.Log(table) }()
	for _, c := range []struct {
		class         string
		planned, sent int64
		rule          string
	}{
		{"source_get", planned.SourceGet, sent.SourceGet,
			"export.FirstExportRequests (export/requests.go: broadcast.json twice, each object once, HLS playlist+segments again when remuxing) and export.RunRequests (users.jsonl twice)"},
		{"source_list", planned.SourceList, sent.SourceList, "planUser lists broadcasts/<user>/ once: blob.ListRequests"},
		{"dest_get", planned.DestGet, sent.DestGet, "tryUser reads manifest.json once (export/user.go)"},
		{"dest_put", planned.DestPut, sent.DestPut,
			"one PutObject per zip part under its first part size (blob.UploadRequests, internal/blob/s3_requests.go; parts from splitParts) + manifest.json"},
		{"multipart", planned.Multipart, sent.Multipart, "blob.UploadRequests: Create+Complete per zip part of at least its first part size"},
		{"parts", planned.Parts, sent.Parts, "blob.UploadRequests with the part sizes of internal/blob/s3_partsize.go"},
		{"dest_list", planned.DestList, sent.DestList, "a first export lists nothing (abortLeftovers, removeStale in export/user.go)"},
		{"claims", planned.Claims, sent.Claims, "acquireClaim's one conditional PUT per user (export/claim.go); renewals by time, export.ClaimRenewal"},
		{"reports", planned.Reports, sent.Reports, "finish writes one run report per shard (export.RunRequests)"},
		{"dest_delete", planned.DestDelete, sent.DestDelete, "the claim's release (export/claim.go)"},
	} {
		table += fmt.Sprintf(" %s %d/%d", c.class, c.planned, c.sent)
		if c.planned != c.sent {
			t.Errorf("%s: plan --json predicted %d, the export sent %d (off by %+d); the rule: %s",
				c.class, c.planned, c.sent, c.sent-c.planned, c.rule)
		}
	}
}
