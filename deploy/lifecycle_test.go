package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// readLifecycle decodes s3-lifecycle.json strictly into the SDK's own
// input type, so a key the API does not have is an error.
func readLifecycle(t *testing.T) s3.PutBucketLifecycleConfigurationInput {
	t.Helper()
	raw, err := os.ReadFile("s3-lifecycle.json")
	if err != nil {
		t.Fatal(err)
	}
	var in s3.PutBucketLifecycleConfigurationInput
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&in); err != nil {
		t.Fatalf("s3-lifecycle.json: %v", err)
	}
	return in
}

// TestLifecycleExpiresTaggedExports checks the rules against what the
// deployments write: exports under their destination prefix, tagged as
// PERISCOPE_SUNSET_TAG says, expire at a midnight UTC; incomplete
// multipart uploads under the prefix are aborted; and nothing else (the
// run reports, the source) is touched.
func TestLifecycleExpiresTaggedExports(t *testing.T) {
	in := readLifecycle(t)
	var def jobDefinition
	readJSON(t, "aws-batch/job-definition.json", &def)
	bucket, prefix := s3Parts(t, def.Parameters["dest"])
	if aws.ToString(in.Bucket) != bucket {
		t.Errorf("lifecycle bucket %q, want the destination's %q", aws.ToString(in.Bucket), bucket)
	}
	var tagPair string
	for _, kv := range def.ContainerProperties.Environment {
		if kv.Name == "PERISCOPE_SUNSET_TAG" {
			tagPair = kv.Value
		}
	}
	tags, err := blob.ParseTags([]string{tagPair})
	if err != nil || len(tags) != 1 {
		t.Fatalf("job definition PERISCOPE_SUNSET_TAG %q: %v", tagPair, err)
	}
	if in.LifecycleConfiguration == nil || len(in.LifecycleConfiguration.Rules) == 0 {
		t.Fatal("no lifecycle rules")
	}
	var expires, aborts bool
	for _, r := range in.LifecycleConfiguration.Rules {
		id := aws.ToString(r.ID)
		if r.Status != types.ExpirationStatusEnabled {
			t.Errorf("rule %s: status %q", id, r.Status)
		}
		if r.Filter == nil {
			t.Fatalf("rule %s: no filter: it would apply to the whole bucket", id)
		}
		rulePrefix, ruleTags := aws.ToString(r.Filter.Prefix), []types.Tag(nil)
		if r.Filter.Tag != nil {
			ruleTags = []types.Tag{*r.Filter.Tag}
		}
		if a := r.Filter.And; a != nil {
			rulePrefix, ruleTags = aws.ToString(a.Prefix), a.Tags
		}
		if !strings.HasPrefix(rulePrefix, prefix+"/") {
			t.Errorf("rule %s: prefix %q reaches outside the destination prefix %s/", id, rulePrefix, prefix)
		}
		if r.Expiration != nil {
			expires = true
			if !slices.ContainsFunc(ruleTags, func(tg types.Tag) bool {
				return aws.ToString(tg.Key) == tags[0].Key && aws.ToString(tg.Value) == tags[0].Value
			}) {
				t.Errorf("rule %s expires objects without the export tag %s: run reports would go too", id, tagPair)
			}
			d := aws.ToTime(r.Expiration.Date)
			if d.IsZero() || !d.Equal(d.UTC().Truncate(24*time.Hour)) {
				t.Errorf("rule %s: expiration date %v: S3 wants midnight UTC", id, d)
			}
		}
		if r.AbortIncompleteMultipartUpload != nil && aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation) > 0 {
			aborts = true
		}
	}
	if !expires || !aborts {
		t.Errorf("want a rule expiring tagged exports (%v) and one aborting incomplete uploads (%v)", expires, aborts)
	}
}
