package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/faultproxy"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// generateS3 writes a synthetic archive straight into bucket/prefix.
func generateS3(t *testing.T, srv *s3test.Server, bucket, prefix string, opts fixtures.Options) fixtures.Stats {
	t.Helper()
	st, err := fixtures.Generate(context.Background(), srv.Store(t, bucket, prefix), opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// checkCleanFinish asserts what a finished fleet export must leave: every
// user of the source exported exactly once and intact, no multipart upload
// left open, and no part that its manifest does not list.
func checkCleanFinish(t *testing.T, srv *s3test.Server, bucket, prefix string, users int) {
	t.Helper()
	ctx := context.Background()
	dst := srv.Store(t, bucket, prefix)
	exported, err := export.ListExported(ctx, dst)
	if err != nil || len(exported) != users {
		t.Fatalf("%d users exported, want %d (%v)", len(exported), users, err)
	}
	if open, err := dst.ListIncompleteUploads(ctx, ""); err != nil || len(open) != 0 {
		t.Fatalf("incomplete multipart uploads left behind: %v %v", open, err)
	}
	listed := map[string]bool{}
	for _, uid := range exported {
		m, err := export.ReadManifest(ctx, dst, uid)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Parts {
			listed[p.Key] = true
		}
	}
	dst.List(ctx, "", func(info blob.Info) error {
		if strings.HasSuffix(info.Key, ".zip") && !listed[info.Key] {
			t.Errorf("part %s is not listed by any manifest", info.Key)
		}
		return nil
	})
	results, err := export.Verify(ctx, dst, export.VerifyOptions{})
	if err != nil {
		for _, r := range results {
			if !r.OK() {
				t.Errorf("%s: %v", r.User, r.Problems)
			}
		}
		t.Fatalf("verify: %v", err)
	}
}

// Under about 5% injected S3 faults (SlowDown, 500, resets, bodies cut
// midway, latency) on every request, source and destination, an export of a
// few hundred users still finishes with every user exported and verified.
func TestExportSurvivesInjectedFaults(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	small := generateS3(t, srv, bucket, "small", fixtures.Options{Users: 300, Broadcasts: 1, VideoBytes: 24 << 10, Seed: 3})
	large := generateS3(t, srv, bucket, "large", fixtures.Options{Users: 3, Broadcasts: 2, VideoBytes: 6 << 20, Seed: 4})
	proxy := faultproxy.Start(t, srv.Endpoint, faultproxy.Config{Rate: 0.05, Seed: 42, MaxLatency: 100 * time.Millisecond})
	for _, w := range []struct {
		name  string
		users int
	}{{"small", small.Users}, {"large", large.Users}} {
		r := run(t, srv.Env(), "export", "--source", "s3://"+bucket+"/"+w.name, "--dest", "s3://"+bucket+"/out-"+w.name,
			"--s3-endpoint", proxy.URL, "--s3-path-style", "--progress", "log", "--workers", "8").want(t, 0)
		if !strings.Contains(r.stdout, "failed 0 users") {
			t.Fatalf("%s: %s", w.name, r.stdout)
		}
		checkCleanFinish(t, srv, bucket, "out-"+w.name, w.users)
	}
	t.Logf("injected: %s", proxy.Summary())
	for _, k := range []faultproxy.Kind{faultproxy.SlowDown, faultproxy.Internal, faultproxy.Reset, faultproxy.CutBody} {
		if proxy.Faults(k) == 0 {
			t.Errorf("no %s fault was injected; the test did not test it", k)
		}
	}
}

// Kill the export with SIGKILL at random moments (and once with SIGTERM),
// rerun it, and the export still ends with every user exported once,
// verified, and no multipart upload left open.
func TestCrashAndResume(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	st := generateS3(t, srv, bucket, "src", fixtures.Options{Users: 24, Broadcasts: 2, VideoBytes: 6 << 20, Seed: 5})
	args := []string{"export", "--source", "s3://" + bucket + "/src", "--dest", "s3://" + bucket + "/out",
		"--s3-path-style", "--workers", "4", "--memory-budget", "32MiB", "--progress", "none"}
	rng := rand.New(rand.NewPCG(7, 7))
	killed := 0
	for i := range 5 {
		sig := syscall.SIGKILL
		if i == 1 {
			sig = syscall.SIGTERM
		}
		code, stderr := runAndSignal(t, srv.Env(), args, time.Duration(100+rng.IntN(300))*time.Millisecond, sig)
		switch {
		case code == 0:
			continue // finished before the signal
		case sig == syscall.SIGTERM && code != exitInterrupted:
			t.Fatalf("SIGTERM: exit %d, want %d\n%s", code, exitInterrupted, stderr)
		}
		killed++
	}
	if killed == 0 {
		t.Fatal("every run finished before it was killed; the test did not test a crash")
	}
	r := run(t, srv.Env(), args...).want(t, 0)
	if !strings.Contains(r.stdout, "failed 0 users") {
		t.Fatal(r.stdout)
	}
	checkCleanFinish(t, srv, bucket, "out", st.Users)
	checkInterruptedReport(t, srv, bucket)
}

// runAndSignal starts the binary, sends sig after d, and returns its exit
// code (-1 when killed by the signal).
func runAndSignal(t *testing.T, env, args []string, d time.Duration, sig syscall.Signal) (int, string) {
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Signal(sig) })
	cmd.Wait()
	timer.Stop()
	return cmd.ProcessState.ExitCode(), errb.String()
}

// checkInterruptedReport: a run stopped by SIGTERM still wrote its report.
func checkInterruptedReport(t *testing.T, srv *s3test.Server, bucket string) {
	dst := srv.Store(t, bucket, "out")
	found := false
	dst.List(context.Background(), export.RunsPrefix, func(info blob.Info) error {
		rc, err := dst.Get(context.Background(), info.Key)
		if err != nil {
			return err
		}
		defer rc.Close()
		var rep export.Report
		json.NewDecoder(rc).Decode(&rep)
		found = found || rep.Interrupted
		return nil
	})
	if !found {
		t.Error("no run report marked interrupted: the SIGTERM run did not write its report")
	}
}

// N shard processes at once against one destination export every user
// exactly once between them.
func TestConcurrentShards(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	st := generateS3(t, srv, bucket, "src", fixtures.Options{Users: 60, Broadcasts: 1, VideoBytes: 32 << 10, Seed: 6})
	const shards = 4
	cmds := make([]*exec.Cmd, shards)
	for i := range shards {
		cmds[i] = exec.Command(binary, "export", "--source", "s3://"+bucket+"/src", "--dest", "s3://"+bucket+"/out",
			"--s3-path-style", "--shard-count", "4", "--progress", "none")
		// The index comes from AWS Batch's variable, as on the fleet.
		cmds[i].Env = append(srv.Env(), "PATH="+os.Getenv("PATH"), "AWS_BATCH_JOB_ARRAY_INDEX="+string(rune('0'+i)))
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("shard %d: %v", i, err)
		}
	}
	checkCleanFinish(t, srv, bucket, "out", st.Users)
	status, err := export.ReadStatus(context.Background(), srv.Store(t, bucket, "out"), srv.Store(t, bucket, "src"))
	if err != nil {
		t.Fatal(err)
	}
	exported := 0
	for _, sh := range status.Shards {
		exported += sh.Done
	}
	if len(status.Shards) != shards || exported != st.Users || status.Pending != 0 || status.Total != st.Users {
		t.Fatalf("status: %+v", status)
	}
	r := run(t, srv.Env(), "status", "--dest", "s3://"+bucket+"/out", "--source", "s3://"+bucket+"/src", "--s3-path-style").want(t, 0)
	if !strings.Contains(r.stdout, "pending   0 of 60 users") || !strings.Contains(r.stdout, "3/4") {
		t.Fatalf("status output:\n%s", r.stdout)
	}
}
