package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/recproxy"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// prodFlags are the production S3 flags the tests export with.
func prodFlags(proxy *recproxy.Proxy, owner string) []string {
	return []string{"--s3-endpoint", proxy.URL, "--s3-path-style", "--progress", "none",
		"--sse", "aws:kms", "--sse-kms-key-id", "alias/periscope-exports",
		"--storage-class", "STANDARD_IA", "--expected-bucket-owner", owner,
		"--tag", "periscope-sunset-export=true", "--tag", "window=2021 03"}
}

const wantTagging = "periscope-sunset-export=true&window=2021+03"

// bigSource generates a source whose users' exports are multipart uploads
// (over the 8 MiB first part).
func bigSource(t *testing.T) string {
	src := t.TempDir()
	run(t, nil, "fixtures", "generate", "--out", src, "--users", "2", "--broadcasts", "1",
		"--video-bytes", "9MiB", "--seed", "5").want(t, 0)
	return src
}

// archival reports whether a key is an export part or manifest.
func archival(path string) bool {
	return strings.HasSuffix(path, ".zip") || strings.HasSuffix(path, "/manifest.json")
}

// TestExportProductionHeaders runs exports with every production flag
// through a recording proxy in front of versitygw and checks what every
// request carried.
func TestExportProductionHeaders(t *testing.T) {
	srv := s3test.Start(t)
	proxy := recproxy.Start(t, srv.Endpoint)
	bucket := srv.NewBucket(t)
	env := srv.Env()
	flags := prodFlags(proxy, srv.AccessKey)
	run(t, env, append([]string{"export", "--source", samplePath(t), "--dest", "s3://" + bucket + "/sample"}, flags...)...).want(t, 0)
	run(t, env, append([]string{"export", "--source", bigSource(t), "--dest", "s3://" + bucket + "/big"}, flags...)...).want(t, 0)

	counts := map[string]int{}
	for _, r := range proxy.Requests() {
		op := r.Op()
		counts[op]++
		h := r.Header.Get
		if got := h("X-Amz-Expected-Bucket-Owner"); got != srv.AccessKey {
			t.Errorf("%s %s: expected bucket owner %q, want %q", op, r.Path, got, srv.AccessKey)
		}
		switch op {
		case "PutObject", "CreateMultipartUpload":
			if h("X-Amz-Server-Side-Encryption") != "aws:kms" || h("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id") != "alias/periscope-exports" {
				t.Errorf("%s %s: no SSE-KMS headers: %v", op, r.Path, r.Header)
			}
			class, tagging := h("X-Amz-Storage-Class"), h("X-Amz-Tagging")
			if archival(r.Path) {
				counts["archival "+op]++
				if class != "STANDARD_IA" || tagging != wantTagging {
					t.Errorf("%s %s: storage class %q, tagging %q", op, r.Path, class, tagging)
				}
			} else if class != "" || tagging != "" {
				t.Errorf("%s %s (state, not export): storage class %q, tagging %q", op, r.Path, class, tagging)
			}
		}
		switch op {
		case "PutObject", "UploadPart", "CompleteMultipartUpload":
			if h("X-Amz-Checksum-Crc32c") == "" {
				t.Errorf("%s %s: no x-amz-checksum-crc32c: %v", op, r.Path, r.Header)
			}
			if h("X-Amz-Trailer") != "" || h("X-Amz-Content-Sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER" {
				t.Errorf("%s %s: checksum sent in a trailer", op, r.Path)
			}
		}
		if op == "CreateMultipartUpload" || op == "CompleteMultipartUpload" {
			if h("X-Amz-Checksum-Type") != "FULL_OBJECT" {
				t.Errorf("%s %s: checksum type %q, want FULL_OBJECT", op, r.Path, h("X-Amz-Checksum-Type"))
			}
		}
		if r.Status >= 300 && r.Status != 404 {
			t.Errorf("%s %s: status %d", op, r.Path, r.Status)
		}
	}
	t.Logf("requests through the recording proxy: %v", counts)
	for _, op := range []string{"archival PutObject", "PutObject", "archival CreateMultipartUpload", "UploadPart",
		"CompleteMultipartUpload", "GetObject", "DeleteObject", "ListObjectsV2"} {
		if counts[op] == 0 {
			t.Errorf("no %s request recorded: %v", op, counts)
		}
	}
	if counts["archival PutObject"] == counts["PutObject"] {
		t.Errorf("no state (claim, report) PutObject recorded: %v", counts)
	}

	// The tags are on the objects: read back with the AWS CLI.
	for _, key := range []string{"sample/alice/manifest.json", "big/" + firstUser(t, srv, bucket, "big/") + "/manifest.json"} {
		if got := objectTags(t, srv, bucket, key); got != "periscope-sunset-export=true,window=2021 03" {
			t.Errorf("tags of %s: %s", key, got)
		}
	}
	run(t, env, "verify", "--dest", "s3://"+bucket+"/big", "--s3-endpoint", proxy.URL, "--s3-path-style",
		"--expected-bucket-owner", srv.AccessKey).want(t, 0)
}

// firstUser is the first user folder under prefix.
func firstUser(t *testing.T, srv *s3test.Server, bucket, prefix string) string {
	out, err := srv.Client(t).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out.Contents {
		rest := strings.TrimPrefix(*o.Key, prefix)
		if u, _, ok := strings.Cut(rest, "/"); ok && !strings.HasPrefix(u, "_") {
			return u
		}
	}
	t.Fatalf("no user under %s", prefix)
	return ""
}

// objectTags reads an object's tags with the AWS CLI, as key=value pairs
// joined by commas in key order.
func objectTags(t *testing.T, srv *s3test.Server, bucket, key string) string {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("no AWS CLI: run scripts/install-deps (installs Debian's awscli)")
	}
	cmd := exec.Command(aws, "s3api", "get-object-tagging", "--endpoint-url", srv.Endpoint,
		"--bucket", bucket, "--key", key, "--output", "json")
	cmd.Env = append(srv.Env(), "HOME="+t.TempDir(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws s3api get-object-tagging %s: %v\n%s", key, err, out)
	}
	var res struct{ TagSet []struct{ Key, Value string } }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("get-object-tagging %s: %v\n%s", key, err, out)
	}
	var pairs []string
	for _, tag := range res.TagSet {
		pairs = append(pairs, tag.Key+"="+tag.Value)
	}
	slices.Sort(pairs) // the server returns a tag set in no set order
	return strings.Join(pairs, ",")
}

// TestExportWrongOwner checks that a bucket owned by someone else gets
// nothing: the owner is checked before the first write.
func TestExportWrongOwner(t *testing.T) {
	srv := s3test.Start(t)
	proxy := recproxy.Start(t, srv.Endpoint)
	bucket := srv.NewBucket(t)
	env := srv.Env()
	r := run(t, env, append([]string{"export", "--source", samplePath(t), "--dest", "s3://" + bucket + "/x"},
		prodFlags(proxy, "111122223333")...)...).want(t, 1)
	if !strings.Contains(r.stderr, "--expected-bucket-owner 111122223333") || !strings.Contains(r.stderr, "not owned by the expected owner") {
		t.Errorf("stderr does not name the flag and the cause:\n%s", r.stderr)
	}
	out, err := srv.Client(t).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("bucket of another owner holds %d objects", len(out.Contents))
	}
	for _, req := range proxy.Requests() {
		if req.Op() != "ListObjectsV2" {
			t.Errorf("%s %s sent to a bucket of another owner", req.Op(), req.Path)
		}
	}

	// The same for the source bucket, and its own flag.
	r = run(t, env, "export", "--source", "s3://"+bucket+"/src", "--dest", t.TempDir(), "--s3-endpoint", proxy.URL,
		"--s3-path-style", "--source-expected-bucket-owner", "111122223333").want(t, 1)
	if !strings.Contains(r.stderr, "--source-expected-bucket-owner 111122223333") {
		t.Errorf("stderr does not name --source-expected-bucket-owner:\n%s", r.stderr)
	}
}

// TestProductionFlagErrors checks bad values and S3-only flags on folders.
func TestProductionFlagErrors(t *testing.T) {
	src, dst := samplePath(t), t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--sse", "aes256"}, "want AES256 or aws:kms"},
		{[]string{"--sse", "AES256", "--sse-kms-key-id", "alias/x"}, "needs the aws:kms"},
		{[]string{"--storage-class", "GLACIER"}, "--storage-class: storage class GLACIER"},
		{[]string{"--storage-class", "COLD"}, "want one of"},
		{[]string{"--tag", "aws:x=1"}, "--tag: tag \"aws:x=1\""},
		{[]string{"--tag", "k=a&b=c"}, "not allowed"},
		{[]string{"--expected-bucket-owner", "1111\n2222"}, "--expected-bucket-owner: bucket owner"},
		{[]string{"--sse", "AES256"}, "--sse applies to S3 only"},
		{[]string{"--tag", "k=v"}, "--tag applies to S3 only"},
	} {
		r := run(t, nil, append([]string{"export", "--source", src, "--dest", dst}, c.args...)...).want(t, 1)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr lacks %q:\n%s", c.args, c.want, r.stderr)
		}
	}
}

// TestExportCorruptedPart flips one byte of the first UploadPart and of
// the first manifest PutObject on the way to versitygw: S3 must refuse each
// (its CRC-32C does not match) and the tool must resend it, so the export
// ends complete and verified.
func TestExportCorruptedPart(t *testing.T) {
	srv := s3test.Start(t)
	proxy := recproxy.Start(t, srv.Endpoint)
	var part, put atomic.Bool
	proxy.Tamper = func(r recproxy.Request) bool {
		switch op := r.Op(); {
		case op == "UploadPart":
			return part.CompareAndSwap(false, true)
		case op == "PutObject" && strings.HasSuffix(r.Path, "/manifest.json"):
			return put.CompareAndSwap(false, true)
		}
		return false
	}
	bucket := srv.NewBucket(t)
	dest := "s3://" + bucket + "/big"
	flags := []string{"--s3-endpoint", proxy.URL, "--s3-path-style", "--progress", "none"}
	run(t, srv.Env(), append([]string{"export", "--source", bigSource(t), "--dest", dest}, flags...)...).want(t, 0)
	var tampered []recproxy.Request
	for _, r := range proxy.Requests() {
		if r.Tampered {
			tampered = append(tampered, r)
		}
	}
	if len(tampered) != 2 {
		t.Fatalf("%d requests tampered with, want 2", len(tampered))
	}
	for _, r := range tampered {
		if r.Status != 400 {
			t.Errorf("corrupted %s %s: status %d, want 400 (BadDigest)", r.Op(), r.Path, r.Status)
		}
		resent := false
		for _, again := range proxy.Requests() {
			if !again.Tampered && again.Path == r.Path && again.Query.Encode() == r.Query.Encode() && again.Status == 200 {
				resent = true
			}
		}
		if !resent {
			t.Errorf("corrupted %s %s?%s was not resent", r.Op(), r.Path, r.Query.Encode())
		}
	}
	run(t, srv.Env(), append([]string{"verify", "--dest", dest}, flags[:3]...)...).want(t, 0)
}

// TestRunbookStateProductionHeaders checks the runbook's state writes get
// the encryption and owner of the shared flags too (never the export-only
// storage class or tags).
func TestRunbookStateProductionHeaders(t *testing.T) {
	srv := s3test.Start(t)
	proxy := recproxy.Start(t, srv.Endpoint)
	bucket := srv.NewBucket(t)
	run(t, srv.Env(), "signups", "block", "--reason", "shutting down", "--state", "s3://"+bucket+"/state",
		"--actor", "ops@example.com", "--s3-endpoint", proxy.URL, "--s3-path-style",
		"--sse", "AES256", "--expected-bucket-owner", srv.AccessKey).want(t, 0)
	puts := 0
	for _, r := range proxy.Requests() {
		h := r.Header.Get
		if h("X-Amz-Expected-Bucket-Owner") != srv.AccessKey {
			t.Errorf("%s %s: expected bucket owner %q", r.Op(), r.Path, h("X-Amz-Expected-Bucket-Owner"))
		}
		if r.Op() != "PutObject" {
			continue
		}
		puts++
		if h("X-Amz-Server-Side-Encryption") != "AES256" || h("X-Amz-Checksum-Crc32c") == "" ||
			h("X-Amz-Storage-Class") != "" || h("X-Amz-Tagging") != "" {
			t.Errorf("state write %s: %v", r.Path, r.Header)
		}
	}
	if puts == 0 {
		t.Error("no state written")
	}
}
