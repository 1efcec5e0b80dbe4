package deploy_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// strs is an IAM field that is a string or a list of strings.
type strs []string

func (s *strs) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = strs{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

type policyDoc struct {
	Version   string
	Statement []struct {
		Sid       string
		Effect    string
		Principal map[string]strs
		Action    strs
		NotAction strs
		Resource  strs
		Condition map[string]map[string]strs
	}
}

// grants reports whether some statement allows action on resource, and
// whether that grant is limited to listing prefix (for s3:ListBucket).
func (p policyDoc) grants(action, resource, prefix string) bool {
	for _, st := range p.Statement {
		if st.Effect != "Allow" || !slices.Contains(st.Action, action) || !slices.Contains(st.Resource, resource) {
			continue
		}
		if prefix == "" {
			return true
		}
		if slices.Contains(st.Condition["StringLike"]["s3:prefix"], prefix) {
			return true
		}
	}
	return false
}

// s3Parts splits s3://bucket/prefix.
func s3Parts(t *testing.T, raw string) (bucket, prefix string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		t.Fatalf("%q: want s3://bucket/prefix (a prefix, so the policy can stay inside it)", raw)
	}
	return u.Host, strings.Trim(u.Path, "/")
}

func readPolicy(t *testing.T) policyDoc {
	t.Helper()
	var in struct {
		PolicyName, Path, Description, PolicyDocument string
		Tags                                          []struct{ Key, Value string }
	}
	readJSON(t, "aws-batch/iam-policy.json", &in)
	var p policyDoc
	if err := json.Unmarshal([]byte(in.PolicyDocument), &p); err != nil {
		t.Fatalf("iam-policy.json PolicyDocument is not a JSON policy: %v", err)
	}
	return p
}

// kmsActions are all the KMS the export may use: S3 asks KMS for a data
// key to encrypt each object (or part) it stores under SSE-KMS, and to
// decrypt one for each read and to complete a multipart upload.
var kmsActions = []string{"kms:GenerateDataKey", "kms:Decrypt"}

// kmsKeyARN is one KMS key by its id: not an alias (which can be pointed
// at another key) and not a wildcard.
var kmsKeyARN = regexp.MustCompile(`^arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$`)

// s3Service is S3's name in a kms:ViaService condition.
var s3Service = regexp.MustCompile(`^s3\.[a-z0-9-]+\.amazonaws\.com$`)

// TestIAMPolicyIsLeastPrivilege checks the policy document itself: no S3
// wildcard actions, no S3 action on every resource, nothing but Allow, the
// source never writable, and KMS only to use one key through S3.
func TestIAMPolicyIsLeastPrivilege(t *testing.T) {
	p := readPolicy(t)
	if p.Version != "2012-10-17" || len(p.Statement) == 0 {
		t.Fatalf("policy version %q with %d statements", p.Version, len(p.Statement))
	}
	var def jobDefinition
	readJSON(t, "aws-batch/job-definition.json", &def)
	srcBucket, _ := s3Parts(t, def.Parameters["source"])
	for _, st := range p.Statement {
		if st.Effect != "Allow" || len(st.NotAction) > 0 {
			t.Errorf("%s: want plain Allow statements", st.Sid)
		}
		for _, a := range st.Action {
			if a == "*" || a == "s3:*" || strings.HasSuffix(a, "*") {
				t.Errorf("%s: wildcard action %s", st.Sid, a)
			}
			if !strings.HasPrefix(a, "s3:") && !slices.Contains(kmsActions, a) {
				t.Errorf("%s: action %s is neither S3 nor %v: the export needs nothing else", st.Sid, a, kmsActions)
			}
		}
		if slices.ContainsFunc(st.Action, func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
			checkKMSStatement(t, st.Sid, st.Action, st.Resource, st.Condition)
			continue
		}
		for _, r := range st.Resource {
			if r == "*" || r == "arn:aws:s3:::*" || !strings.HasPrefix(r, "arn:aws:s3:::") {
				t.Errorf("%s: resource %s: want named buckets and prefixes only", st.Sid, r)
			}
			if strings.HasPrefix(r, "arn:aws:s3:::"+srcBucket+"/") &&
				slices.ContainsFunc(st.Action, func(a string) bool { return a != "s3:GetObject" }) {
				t.Errorf("%s: grants %v on the source %s: the source is read-only", st.Sid, st.Action, r)
			}
		}
		if slices.Contains(st.Action, "s3:ListBucket") && len(st.Condition["StringLike"]["s3:prefix"]) == 0 {
			t.Errorf("%s: s3:ListBucket without an s3:prefix condition lists the whole bucket", st.Sid)
		}
	}
}

// checkKMSStatement checks a statement that grants KMS: only kmsActions,
// only on named keys, only when S3 makes the call on the role's behalf.
func checkKMSStatement(t *testing.T, sid string, actions, resources strs, cond map[string]map[string]strs) {
	t.Helper()
	if slices.ContainsFunc(actions, func(a string) bool { return !slices.Contains(kmsActions, a) }) {
		t.Errorf("%s: KMS statement grants %v: want only %v", sid, actions, kmsActions)
	}
	for _, r := range resources {
		if !kmsKeyARN.MatchString(r) {
			t.Errorf("%s: KMS resource %s: want one key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)", sid, r)
		}
	}
	via := cond["StringEquals"]["kms:ViaService"]
	if len(via) == 0 || slices.ContainsFunc(via, func(v string) bool { return !s3Service.MatchString(v) }) {
		t.Errorf("%s: KMS use not limited to S3 (Condition StringEquals kms:ViaService s3.REGION.amazonaws.com): %v", sid, via)
	}
}

// TestIAMPolicyCoversEncryption checks that what the deployments ask of
// S3 is allowed: SSE-KMS with their key needs kms:GenerateDataKey and
// kms:Decrypt on exactly that key, and object tags need
// s3:PutObjectTagging on the destination.
func TestIAMPolicyCoversEncryption(t *testing.T) {
	p := readPolicy(t)
	var def jobDefinition
	readJSON(t, "aws-batch/job-definition.json", &def)
	benv := map[string]string{}
	for _, kv := range def.ContainerProperties.Environment {
		benv[kv.Name] = kv.Value
	}
	kenv := readKubernetes(t).job.Spec.Template.Spec.Containers[0].Env
	deployments := map[string]struct {
		env  func(string) string
		dest string
	}{
		"Batch":      {func(n string) string { return benv[n] }, def.Parameters["dest"]},
		"Kubernetes": {func(n string) string { return envValue(kenv, n) }, envValue(kenv, "PERISCOPE_SUNSET_DEST")},
	}
	for what, d := range deployments {
		env := d.env
		if env("PERISCOPE_SUNSET_SSE") != "aws:kms" {
			t.Errorf("%s: PERISCOPE_SUNSET_SSE = %q, want aws:kms", what, env("PERISCOPE_SUNSET_SSE"))
		}
		key := env("PERISCOPE_SUNSET_SSE_KMS_KEY_ID")
		if !kmsKeyARN.MatchString(key) {
			t.Errorf("%s: PERISCOPE_SUNSET_SSE_KMS_KEY_ID %q: want the key's ARN, which the policy can name", what, key)
		}
		for _, a := range kmsActions {
			if !p.grants(a, key, "") {
				t.Errorf("%s: the policy does not grant %s on %s", what, a, key)
			}
		}
		if env("PERISCOPE_SUNSET_TAG") == "" {
			t.Errorf("%s: no PERISCOPE_SUNSET_TAG: the lifecycle rule (s3-lifecycle.json) expires tagged exports only", what)
		}
		b, pre := s3Parts(t, d.dest)
		if !p.grants("s3:PutObjectTagging", "arn:aws:s3:::"+b+"/"+pre+"/*", "") {
			t.Errorf("%s: tags on the exports need s3:PutObjectTagging under %s", what, d.dest)
		}
		for _, owner := range []string{"PERISCOPE_SUNSET_EXPECTED_BUCKET_OWNER", "PERISCOPE_SUNSET_SOURCE_EXPECTED_BUCKET_OWNER"} {
			if !regexp.MustCompile(`^[0-9]{12}$`).MatchString(env(owner)) {
				t.Errorf("%s: %s = %q, want the 12-digit account id", what, owner, env(owner))
			}
		}
	}
}

// TestIAMPolicyCoversTheDeployments checks that the stores the AWS Batch
// job and the Kubernetes Job use get what the export does to them.
func TestIAMPolicyCoversTheDeployments(t *testing.T) {
	p := readPolicy(t)
	var def jobDefinition
	readJSON(t, "aws-batch/job-definition.json", &def)
	job := readKubernetes(t).job
	kenv := job.Spec.Template.Spec.Containers[0].Env
	sources := map[string]string{"Batch source": def.Parameters["source"], "Kubernetes source": envValue(kenv, "PERISCOPE_SUNSET_SOURCE")}
	dests := map[string]string{"Batch dest": def.Parameters["dest"], "Kubernetes dest": envValue(kenv, "PERISCOPE_SUNSET_DEST")}
	for what, raw := range sources {
		b, pre := s3Parts(t, raw)
		if !p.grants("s3:GetObject", "arn:aws:s3:::"+b+"/"+pre+"/*", "") ||
			!p.grants("s3:ListBucket", "arn:aws:s3:::"+b, pre+"/*") {
			t.Errorf("%s %s: the policy does not grant GetObject under it and ListBucket of its prefix", what, raw)
		}
	}
	for what, raw := range dests {
		b, pre := s3Parts(t, raw)
		for _, a := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"} {
			if !p.grants(a, "arn:aws:s3:::"+b+"/"+pre+"/*", "") {
				t.Errorf("%s %s: the policy does not grant %s under it", what, raw, a)
			}
		}
		if !p.grants("s3:ListBucket", "arn:aws:s3:::"+b, pre+"/*") || !p.grants("s3:ListBucketMultipartUploads", "arn:aws:s3:::"+b, "") {
			t.Errorf("%s %s: the policy does not grant ListBucket of its prefix and ListBucketMultipartUploads", what, raw)
		}
	}
	// The runbook's state: read and write under one prefix.
	var state string
	for _, st := range p.Statement {
		if slices.Contains(st.Action, "s3:PutObject") && !slices.Contains(st.Action, "s3:AbortMultipartUpload") {
			state = st.Resource[0]
		}
	}
	if !strings.HasSuffix(state, "/*") || !p.grants("s3:GetObject", state, "") {
		t.Errorf("no read/write grant for the runbook's state prefix (found %q)", state)
	}
}
