package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// The deploy files are checked against the AWS API model as the pinned
// aws-sdk-go-v2 service modules (go.mod: service/batch, service/iam,
// service/s3) carry it, so every machine checks against the same model
// whatever AWS CLI or botocore it has. Each file is decoded strictly into the
// operation's input type (every key must be a member, spelled as the model
// spells it), every enum value must be one the model lists, and then the
// SDK's own client runs the operation up to the point of sending: its
// validation of required members runs, and the request it would send is
// captured instead of sent.

// modelOps maps "service Operation" to a runner that validates and
// serializes one decoded input with the real SDK client.
var modelOps = map[string]func(ctx context.Context, file string, cfg aws.Config) error{
	"batch CreateComputeEnvironment": sdkOp(true, batch.NewFromConfig, (*batch.Client).CreateComputeEnvironment),
	"batch CreateJobQueue":           sdkOp(true, batch.NewFromConfig, (*batch.Client).CreateJobQueue),
	"batch RegisterJobDefinition":    sdkOp(true, batch.NewFromConfig, (*batch.Client).RegisterJobDefinition),
	"batch SubmitJob":                sdkOp(true, batch.NewFromConfig, (*batch.Client).SubmitJob),
	"iam CreatePolicy":               sdkOp(false, iam.NewFromConfig, (*iam.Client).CreatePolicy),
	"iam CreateRole":                 sdkOp(false, iam.NewFromConfig, (*iam.Client).CreateRole),
	"s3api PutBucketLifecycleConfiguration": sdkOp(false, func(cfg aws.Config, opts ...func(*s3.Options)) *s3.Client {
		return s3.NewFromConfig(cfg, append(opts, func(o *s3.Options) { o.UsePathStyle = true })...)
	}, (*s3.Client).PutBucketLifecycleConfiguration),
}

// errCaptured stops a request at the transport: the SDK built and
// validated it, which is all the test needs.
var errCaptured = errors.New("request captured, not sent")

type captureTransport struct{ body []byte }

func (c *captureTransport) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		c.body, _ = io.ReadAll(r.Body)
	}
	return nil, errCaptured
}

// sdkOp makes a modelOps runner for one client method: decode the file
// strictly into In, check its enums, and call the method.
func sdkOp[C any, In any, Out any, O any](lowerMembers bool, newClient func(aws.Config, ...func(*O)) *C,
	call func(*C, context.Context, *In, ...func(*O)) (*Out, error)) func(context.Context, string, aws.Config) error {
	return func(ctx context.Context, file string, cfg aws.Config) error {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		in := new(In)
		if err := decodeStrict(b, reflect.ValueOf(in).Elem(), "$", lowerMembers); err != nil {
			return err
		}
		if err := checkEnums(reflect.ValueOf(in).Elem(), "$"); err != nil {
			return err
		}
		_, err = call(newClient(cfg), ctx, in)
		var invalid smithy.InvalidParamsError
		switch {
		case errors.As(err, &invalid):
			return fmt.Errorf("the SDK's validation: %w", err)
		case errors.Is(err, errCaptured):
			return nil
		case err == nil:
			return errors.New("the operation returned no error: the request was not captured")
		default:
			return fmt.Errorf("before sending: %w", err)
		}
	}
}

// decodeStrict decodes JSON into v, requiring every object key to name a
// member exactly as the model spells it. The SDK's Go field is the model's
// member name with its first letter upper-cased; the models spell members
// in one case per service (Batch: jobQueueName; IAM and S3: RoleName), so
// a key matches a field when its first letter has the service's case and
// the rest is equal. encoding/json alone would take any case.
func decodeStrict(data []byte, v reflect.Value, at string, lower bool) error {
	if v.Kind() == reflect.Pointer {
		if string(bytes.TrimSpace(data)) == "null" {
			return fmt.Errorf("%s: null", at)
		}
		v.Set(reflect.New(v.Type().Elem()))
		return decodeStrict(data, v.Elem(), at, lower)
	}
	if _, ok := v.Addr().Interface().(json.Unmarshaler); ok { // time.Time
		if err := json.Unmarshal(data, v.Addr().Interface()); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		for _, key := range sortedKeys(obj) {
			f, ok := memberField(v.Type(), key, lower)
			if !ok {
				return fmt.Errorf("%s: %q is not a member of %s", at, key, v.Type().Name())
			}
			if err := decodeStrict(obj[key], v.FieldByIndex(f.Index), at+"."+key, lower); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeStrict(item, s.Index(i), fmt.Sprintf("%s[%d]", at, i), lower); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for _, k := range sortedKeys(m) {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := decodeStrict(m[k], e, at+"."+k, lower); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(out)
		return nil
	default: // strings, enums, numbers, booleans
		if err := json.Unmarshal(data, v.Addr().Interface()); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		return nil
	}
}

func memberField(t reflect.Type, key string, lower bool) (reflect.StructField, bool) {
	if key == "" {
		return reflect.StructField{}, false
	}
	r := []rune(key)
	if unicode.IsLower(r[0]) != lower {
		return reflect.StructField{}, false
	}
	r[0] = unicode.ToUpper(r[0])
	f, ok := t.FieldByName(string(r))
	if !ok || !f.IsExported() || f.Name == "noSmithyDocumentSerde" {
		return reflect.StructField{}, false
	}
	return f, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// enumValues returns the model's list of values when v's type is an SDK
// enum (a string type with a Values method listing them).
func enumValues(v reflect.Value) ([]string, bool) {
	if v.Kind() != reflect.String {
		return nil, false
	}
	m := v.MethodByName("Values")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 || m.Type().Out(0).Kind() != reflect.Slice {
		return nil, false
	}
	list := m.Call(nil)[0]
	values := make([]string, list.Len())
	for i := range values {
		values[i] = list.Index(i).String()
	}
	return values, true
}

// checkEnums walks a decoded input and fails on any enum-typed value the
// model does not list (the server rejects those; the client does not).
func checkEnums(v reflect.Value, at string) error {
	if values, ok := enumValues(v); ok {
		if v.String() != "" && !slices.Contains(values, v.String()) { // "" is an unset member
			return fmt.Errorf("%s: %q is not one of the model's %s values %v", at, v.String(), v.Type().Name(), values)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			return checkEnums(v.Elem(), at)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				if err := checkEnums(v.Field(i), at+"."+f.Name); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := checkEnums(v.Index(i), fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if err := checkEnums(v.MapIndex(k), fmt.Sprintf("%s[%v]", at, k)); err != nil {
				return err
			}
		}
	}
	return nil
}

func modelConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: aws.AnonymousCredentials{},
		HTTPClient:  &captureTransport{},
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// TestCLIInputsMatchTheAWSModel checks every --cli-input-json file of
// deploy/ against the pinned SDK model.
func TestCLIInputsMatchTheAWSModel(t *testing.T) {
	for _, in := range cliInputs {
		t.Run(in.file, func(t *testing.T) {
			op, ok := modelOps[in.service+" "+in.operation]
			if !ok {
				t.Fatalf("no model check for %s %s: add it to modelOps", in.service, in.operation)
			}
			if err := op(context.Background(), in.file, modelConfig()); err != nil {
				t.Errorf("%s (%s %s): %v", in.file, in.service, in.operation, err)
			}
		})
	}
}

// TestModelCheckRejectsBadInput proves the check can fail: each file is a
// real deploy file with one mistake the server (or the CLI) would reject.
func TestModelCheckRejectsBadInput(t *testing.T) {
	cases := []struct {
		name, service, operation, base string
		edit                           func(map[string]any)
		want                           string
	}{
		{"misspelt key", "batch", "CreateJobQueue", "aws-batch/job-queue.json",
			func(m map[string]any) { m["prioritty"] = 2 }, `"prioritty" is not a member`},
		{"key in the wrong case", "batch", "CreateJobQueue", "aws-batch/job-queue.json",
			func(m map[string]any) { m["JobQueueName"] = m["jobQueueName"]; delete(m, "jobQueueName") }, `"JobQueueName" is not a member`},
		{"missing required member", "batch", "CreateJobQueue", "aws-batch/job-queue.json",
			func(m map[string]any) { delete(m, "jobQueueName") }, "JobQueueName"},
		{"unknown enum value", "batch", "CreateComputeEnvironment", "aws-batch/compute-environment.json",
			func(m map[string]any) { m["computeResources"].(map[string]any)["allocationStrategy"] = "CHEAPEST" }, `"CHEAPEST" is not one of`},
		{"wrong type", "batch", "SubmitJob", "aws-batch/submit-array-job.json",
			func(m map[string]any) { m["jobName"] = 7 }, "$.jobName"},
		{"IAM member in camel case", "iam", "CreateRole", "aws-batch/job-role.json",
			func(m map[string]any) { m["roleName"] = m["RoleName"]; delete(m, "RoleName") }, `"roleName" is not a member`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(c.base)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			c.edit(m)
			bad, _ := json.Marshal(m)
			file := t.TempDir() + "/bad.json"
			if err := os.WriteFile(file, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			err = modelOps[c.service+" "+c.operation](context.Background(), file, modelConfig())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}
