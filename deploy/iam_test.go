package deploy_test

import (
	"encoding/json"
	"net/url"
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

// TestIAMPolicyIsLeastPrivilege checks the policy document itself: no S3
// wildcard actions, no S3 action on every resource, nothing but Allow, and
// the source never writable.
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
			if !strings.HasPrefix(a, "s3:") {
				t.Errorf("%s: action %s is not S3: the export needs nothing else", st.Sid, a)
			}
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
