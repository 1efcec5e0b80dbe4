package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// brokenSample copies the sample and breaks one of frank's broadcasts (no
// broadcast.json) and adds to alice's a file whose name reorders itself:
// the kind of damage years of production leave.
func brokenSample(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	if err := os.CopyFS(src, os.DirFS(samplePath(t))); err != nil {
		t.Fatal(err)
	}
	frank, _ := filepath.Glob(filepath.Join(src, "broadcasts", "frank", "*", "broadcast.json"))
	alice, _ := filepath.Glob(filepath.Join(src, "broadcasts", "alice", "*"))
	if len(frank) == 0 || len(alice) == 0 {
		t.Fatal("the sample changed: frank and alice need broadcasts")
	}
	if err := os.Remove(frank[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(alice[0], "clip\u202Egpj.exe"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// checkOmissionsEverywhere checks the omissions of a finished export in
// each place its audiences look: status (text and JSON), manifest.json and
// the run report.
func checkOmissionsEverywhere(t *testing.T, env []string, dst blob.Store, dest string, extra ...string) {
	t.Helper()
	r := run(t, env, append([]string{"status", "--dest", dest}, extra...)...).want(t, 0)
	if !strings.Contains(r.stdout, "omissions 2 done users have omissions") ||
		!strings.Contains(r.stdout, `omitted: user alice: broadcasts/alice/`) ||
		!strings.Contains(r.stdout, `clip\u202Egpj.exe`) || strings.ContainsRune(r.stdout, '\u202E') {
		t.Errorf("status text:\n%s", r.stdout)
	}
	r = run(t, env, append([]string{"status", "--dest", dest, "--json"}, extra...)...).want(t, 0)
	var st export.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.WithOmissions != 2 || st.Failed != 0 {
		t.Errorf("status --json: %v\n%s", err, r.stdout)
	}
	for _, uid := range []string{"frank", "alice"} {
		m, err := export.ReadManifest(context.Background(), dst, uid)
		if err != nil || len(m.Omitted) != 1 {
			t.Errorf("%s's manifest: %v, omitted %+v; want one omission", uid, err, m)
		}
	}
	var n int
	dst.List(context.Background(), export.RunsPrefix, func(info blob.Info) error {
		var rep export.Report
		rc, err := dst.Get(context.Background(), info.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if json.NewDecoder(rc).Decode(&rep) == nil {
			n += len(rep.Omitted)
		}
		return nil
	})
	if n != 2 {
		t.Errorf("run reports list %d omissions, want 2", n)
	}
}

// A broken archive exports with its omissions recorded, from a folder and
// from S3; --strict (or its environment variable) fails those users.
func TestExportWithOmissions(t *testing.T) {
	src := brokenSample(t)
	dest := t.TempDir()
	r := run(t, nil, "export", "--source", src, "--dest", dest, "--progress", "none").want(t, 0)
	if !strings.Contains(r.stdout, "exported 10") || !strings.Contains(r.stdout, "2 exported users have omissions") {
		t.Fatalf("export output:\n%s\n%s", r.stdout, r.stderr)
	}
	dst, err := blob.NewFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	checkOmissionsEverywhere(t, nil, dst, dest)
	run(t, nil, "verify", "--dest", dest).want(t, 0)

	r = run(t, []string{"PERISCOPE_SUNSET_STRICT=true"}, "export", "--source", src, "--dest", t.TempDir(),
		"--progress", "none").want(t, 3)
	if !strings.Contains(r.stdout, "failed 2") || !strings.Contains(r.stderr, "--strict") {
		t.Fatalf("--strict from the environment:\n%s\n%s", r.stdout, r.stderr)
	}

	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	env := srv.Env()
	up := srv.Store(t, bucket, "source")
	filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(src, p)
			f, _ := os.Open(p)
			defer f.Close()
			if _, err := up.Put(context.Background(), filepath.ToSlash(rel), f, blob.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		return err
	})
	dest = "s3://" + bucket + "/out"
	run(t, env, "export", "--source", "s3://"+bucket+"/source", "--dest", dest, "--s3-path-style",
		"--progress", "none").want(t, 0)
	checkOmissionsEverywhere(t, env, srv.Store(t, bucket, "out"), dest, "--s3-path-style")
}

// A generated archive with broken broadcasts exports every user, with the
// broken broadcasts omitted and counted.
func TestGeneratedArchiveWithBrokenBroadcasts(t *testing.T) {
	src, dest := t.TempDir(), t.TempDir()
	// Broadcasts 1..12 over 4 users of 3: the 5th (u000002) and the 10th
	// (u000004) are broken.
	run(t, nil, "fixtures", "generate", "--out", src, "--users", "4", "--broadcasts", "3",
		"--video-bytes", "64KiB", "--broken-every", "5").want(t, 0)
	r := run(t, nil, "export", "--source", src, "--dest", dest, "--progress", "none").want(t, 0)
	if !strings.Contains(r.stdout, "exported 4") || !strings.Contains(r.stdout, "2 exported users have omissions") {
		t.Fatalf("export output:\n%s\n%s", r.stdout, r.stderr)
	}
	r = run(t, nil, "status", "--dest", dest, "--json").want(t, 0)
	var st export.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.WithOmissions != 2 || st.Done != 4 ||
		len(st.Omitted) != 2 || st.Omitted[0].User != "u000002" || st.Omitted[1].User != "u000004" {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(st.Omitted[0].Reason, "missing broadcast.json") ||
		!strings.Contains(st.Omitted[1].Reason, "not a JSON object") {
		t.Errorf("reasons: %+v", st.Omitted)
	}
	run(t, nil, "verify", "--dest", dest).want(t, 0)
}
