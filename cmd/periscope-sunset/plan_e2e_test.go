package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export/fleet"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// sourceTotals walks a source folder the plain way: the users of
// users.jsonl, and the files and bytes under their broadcast folders.
func sourceTotals(t *testing.T, dir string) (users int, files, bytes int64) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "users.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var u struct{ ID string }
		if json.Unmarshal(sc.Bytes(), &u) != nil || u.ID == "" {
			continue
		}
		users++
		filepath.WalkDir(filepath.Join(dir, "broadcasts", u.ID), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				info, _ := d.Info()
				files++
				bytes += info.Size()
			}
			return nil
		})
	}
	return users, files, bytes
}

func planJSON(t *testing.T, env []string, args ...string) *fleet.Recommendation {
	t.Helper()
	r := run(t, env, append([]string{"plan", "--json"}, args...)...).want(t, 0)
	var p fleet.Recommendation
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, r.stdout)
	}
	return &p
}

func TestPlanSample(t *testing.T) {
	src := samplePath(t)
	r := run(t, nil, "plan", "--source", src).want(t, 0)
	for _, s := range []string{"Catalog of", "Users by source size", "Recommended fleet", "--shard-count 1",
		"c7g.large", "estimated time", "S3 requests of a first run"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("plan output lacks %q:\n%s", s, r.stdout)
		}
	}
	p := planJSON(t, nil, "--source", src)
	users, files, bytes := sourceTotals(t, src)
	c := p.Catalog
	if c.Users != users || c.Files != files || c.Bytes != bytes || c.Broadcasts != 13 {
		t.Errorf("catalog: %d users, %d broadcasts, %d files, %d bytes; the folder has %d users, 13 broadcasts, %d files, %d bytes",
			c.Users, c.Broadcasts, c.Files, c.Bytes, users, files, bytes)
	}
	if p.Shards != 1 || !p.FitsDeadline || p.Requests.Total == 0 {
		t.Errorf("plan for the sample: %d shards, fits %v, %d requests", p.Shards, p.FitsDeadline, p.Requests.Total)
	}
	if r := run(t, nil, "plan", "--help").want(t, 0); !strings.Contains(r.stdout, "$PERISCOPE_SUNSET_DEADLINE") {
		t.Errorf("plan --help does not show its environment variables:\n%s", r.stdout)
	}
}

// TestPlanThenRunTheShards plans a generated archive with a slow enough
// throughput that it needs several shards, then runs each shard as a
// Kubernetes indexed Job would (JOB_COMPLETION_INDEX and the shard count
// from the environment) and checks that together they export every user.
func TestPlanThenRunTheShards(t *testing.T) {
	src, dest := t.TempDir(), t.TempDir()
	run(t, nil, "fixtures", "generate", "--out", src, "--users", "40", "--broadcasts", "2",
		"--video-bytes", "1MiB", "--hls-every", "3").want(t, 0)
	p := planJSON(t, nil, "--source", src, "--throughput-per-vcpu", "0.001", "--deadline", "1h")
	users, files, bytes := sourceTotals(t, src)
	if c := p.Catalog; c.Users != users || c.Files != files || c.Bytes != bytes || c.Broadcasts != 80 {
		t.Errorf("catalog %+v; the folder has %d users, 80 broadcasts, %d files, %d bytes", c, users, files, bytes)
	}
	if p.Shards < 2 || !p.FitsDeadline || p.Bound != "bytes" {
		t.Fatalf("at 1 KB/s per vCPU and 1h, want a fitting plan of several shards, got %d shards, fits %v, bound %s",
			p.Shards, p.FitsDeadline, p.Bound)
	}
	exported := 0
	for i := range p.Shards {
		r := run(t, []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(i),
			"PERISCOPE_SUNSET_SHARD_COUNT=" + strconv.Itoa(p.Shards)},
			"export", "--source", src, "--dest", dest, "--progress", "none").want(t, 0)
		var n int
		if _, err := fmt.Sscanf(r.stdout, "exported %d,", &n); err != nil {
			t.Fatalf("shard %d: %v: %q", i, err, r.stdout)
		}
		exported += n
	}
	if exported != users {
		t.Errorf("the %d shards exported %d users, want %d", p.Shards, exported, users)
	}
	run(t, nil, "verify", "--dest", dest).want(t, 0)
}

// TestPlanS3 plans a source in a real S3 server (versitygw).
func TestPlanS3(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	src := "s3://" + bucket + "/archive"
	run(t, srv.Env(), "fixtures", "generate", "--out", src, "--s3-path-style", "--users", "15",
		"--broadcasts", "2", "--video-bytes", "64KiB").want(t, 0)
	p := planJSON(t, srv.Env(), "--source", src, "--s3-path-style")
	if c := p.Catalog; c.Users != 15 || c.Broadcasts != 30 || c.Bytes < 30*64<<10 {
		t.Errorf("catalog of %s: %+v", src, c)
	}
}

func TestPlanErrors(t *testing.T) {
	r := run(t, nil, "plan", "--source", samplePath(t), "--throughput-per-vcpu", "0").want(t, 1)
	if !strings.Contains(r.stderr, "--throughput-per-vcpu") || !strings.Contains(r.stderr, "--help") {
		t.Errorf("bad flag not named with a pointer to --help:\n%s", r.stderr)
	}
	r = run(t, nil, "plan", "--source", t.TempDir()).want(t, 1)
	if !strings.Contains(r.stderr, "users.jsonl") {
		t.Errorf("missing users.jsonl not named:\n%s", r.stderr)
	}
}

// One bad user's folder never makes plan fail: it lists the problem and
// plans the rest.
func TestPlanListsProblemsAndPlansTheRest(t *testing.T) {
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(samplePath(t))); err != nil {
		t.Fatal(err)
	}
	frank, _ := filepath.Glob(filepath.Join(src, "broadcasts", "frank", "*"))
	if err := os.Symlink("../../../users.jsonl", filepath.Join(frank[0], "leak.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(t.TempDir(), "x"), filepath.Join(frank[0], "outside")); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "plan", "--source", src).want(t, 0)
	for _, s := range []string{"problems", "broadcasts/frank/" + filepath.Base(frank[0]) + "/leak.jsonl: a symbolic link",
		"Recommended fleet"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("plan output lacks %q:\n%s", s, r.stdout)
		}
	}
	if p := planJSON(t, nil, "--source", src); p.Catalog.ProblemCount != 2 || p.Catalog.Users != 10 {
		t.Errorf("plan --json: %d problems, %d users; want 2 and the sample's 10", p.Catalog.ProblemCount, p.Catalog.Users)
	}
}
