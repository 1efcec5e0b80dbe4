package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cliInputs are the --cli-input-json files and the AWS CLI call each is for.
var cliInputs = []struct{ service, operation, file string }{
	{"batch", "CreateComputeEnvironment", "aws-batch/compute-environment.json"},
	{"batch", "CreateComputeEnvironment", "aws-batch/compute-environment-on-demand.json"},
	{"batch", "CreateJobQueue", "aws-batch/job-queue.json"},
	{"batch", "RegisterJobDefinition", "aws-batch/job-definition.json"},
	{"batch", "SubmitJob", "aws-batch/submit-array-job.json"},
	{"iam", "CreatePolicy", "aws-batch/iam-policy.json"},
	{"iam", "CreateRole", "aws-batch/job-role.json"},
	{"iam", "CreateRole", "aws-batch/instance-role.json"},
	{"iam", "CreateRole", "kubernetes/irsa-role.json"},
	{"s3api", "PutBucketLifecycleConfiguration", "s3-lifecycle.json"},
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

type keyValue struct{ Name, Value string }

type computeEnv struct {
	ComputeEnvironmentName, Type, State string
	ComputeResources                    struct {
		Type, AllocationStrategy, InstanceRole string
		MinvCpus, MaxvCpus                     int
		InstanceTypes, Subnets                 []string
		SecurityGroupIDs                       []string `json:"securityGroupIds"`
		Ec2Configuration                       []struct{ ImageType string }
		Tags                                   map[string]string
	}
	Tags map[string]string
}

type jobQueue struct {
	JobQueueName, State     string
	Priority                int
	ComputeEnvironmentOrder []struct {
		Order              int
		ComputeEnvironment string
	}
	Tags map[string]string
}

type jobDefinition struct {
	JobDefinitionName, Type string
	PlatformCapabilities    []string
	Parameters              map[string]string
	ContainerProperties     struct {
		Image, JobRoleArn      string
		Command                []string
		ResourceRequirements   []struct{ Type, Value string }
		Environment            []keyValue
		ReadonlyRootFilesystem bool
		Ulimits                []struct {
			Name                 string
			SoftLimit, HardLimit int
		}
		LinuxParameters struct{ InitProcessEnabled bool }
		RuntimePlatform *struct{} `json:"runtimePlatform"`
	}
	RetryStrategy struct {
		Attempts       int
		EvaluateOnExit []struct{ OnStatusReason, OnReason, OnExitCode, Action string }
	}
	Timeout       struct{ AttemptDurationSeconds int }
	PropagateTags bool
	Tags          map[string]string
}

type submitJob struct {
	JobName, JobQueue, JobDefinition string
	ArrayProperties                  struct{ Size int }
	Parameters                       map[string]string
	ContainerOverrides               struct{ Environment []keyValue }
	Tags                             map[string]string
}

func env(kvs []keyValue, name string) (string, bool) {
	for _, kv := range kvs {
		if kv.Name == name {
			return kv.Value, true
		}
	}
	return "", false
}

// graviton matches Graviton instance families or types: c7g, m7g, c7gn,
// r8g.2xlarge, ...
var graviton = regexp.MustCompile(`^[a-z]+[0-9]+g[a-z]*(\.[0-9]*[a-z]+)?$`)

func TestComputeEnvironmentsAndQueue(t *testing.T) {
	var spot, onDemand computeEnv
	readJSON(t, "aws-batch/compute-environment.json", &spot)
	readJSON(t, "aws-batch/compute-environment-on-demand.json", &onDemand)
	for _, ce := range []computeEnv{spot, onDemand} {
		r := ce.ComputeResources
		if ce.Type != "MANAGED" || r.MinvCpus != 0 || r.MaxvCpus <= 0 {
			t.Errorf("%s: type %s, vCPUs %d-%d: want MANAGED, scaling from 0", ce.ComputeEnvironmentName, ce.Type, r.MinvCpus, r.MaxvCpus)
		}
		if len(r.InstanceTypes) == 0 {
			t.Errorf("%s: no instance types", ce.ComputeEnvironmentName)
		}
		for _, it := range r.InstanceTypes {
			if !graviton.MatchString(it) {
				t.Errorf("%s: instance type %s is not Graviton (arm64)", ce.ComputeEnvironmentName, it)
			}
		}
		if len(r.Ec2Configuration) != 1 || r.Ec2Configuration[0].ImageType != "ECS_AL2023" {
			t.Errorf("%s: ec2Configuration %+v, want the ECS_AL2023 AMI", ce.ComputeEnvironmentName, r.Ec2Configuration)
		}
	}
	if r := spot.ComputeResources; r.Type != "SPOT" || r.AllocationStrategy != "SPOT_PRICE_CAPACITY_OPTIMIZED" {
		t.Errorf("spot environment: %s / %s", r.Type, r.AllocationStrategy)
	}
	if r := onDemand.ComputeResources; r.Type != "EC2" || r.AllocationStrategy != "BEST_FIT_PROGRESSIVE" {
		t.Errorf("on-demand environment: %s / %s", r.Type, r.AllocationStrategy)
	}
	var q jobQueue
	readJSON(t, "aws-batch/job-queue.json", &q)
	order := q.ComputeEnvironmentOrder
	if len(order) != 2 || order[0].Order >= order[1].Order ||
		order[0].ComputeEnvironment != spot.ComputeEnvironmentName ||
		order[1].ComputeEnvironment != onDemand.ComputeEnvironmentName {
		t.Errorf("queue order %+v: want Spot first, then on-demand", order)
	}
}

func TestJobDefinitionAndSubmission(t *testing.T) {
	var def jobDefinition
	var sub submitJob
	var q jobQueue
	var role struct {
		RoleName, Path, Description, AssumeRolePolicyDocument string
		MaxSessionDuration                                    int
		Tags                                                  []struct{ Key, Value string }
	}
	readJSON(t, "aws-batch/job-definition.json", &def)
	readJSON(t, "aws-batch/submit-array-job.json", &sub)
	readJSON(t, "aws-batch/job-queue.json", &q)
	readJSON(t, "aws-batch/job-role.json", &role)
	c := def.ContainerProperties

	if !slices.Equal(def.PlatformCapabilities, []string{"EC2"}) || c.RuntimePlatform != nil {
		t.Errorf("platform %v, runtimePlatform %v: want EC2 (arm64 comes from the instance types and the image; "+
			"runtimePlatform is for Fargate)", def.PlatformCapabilities, c.RuntimePlatform)
	}
	if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
		t.Errorf("image %s: pin a tag, so every shard and every retry runs the same build", c.Image)
	}
	if len(c.Command) == 0 || c.Command[0] != "export" {
		t.Errorf("command %v: want export ...", c.Command)
	}
	for _, arg := range c.Command {
		if p, ok := strings.CutPrefix(arg, "Ref::"); ok {
			if _, ok := def.Parameters[p]; !ok {
				t.Errorf("command uses Ref::%s, which parameters do not define", p)
			}
		}
	}
	for p := range sub.Parameters {
		if _, ok := def.Parameters[p]; !ok {
			t.Errorf("the submission sets parameter %s, which the job definition does not use", p)
		}
	}
	if !strings.HasSuffix(c.JobRoleArn, ":role/"+role.RoleName) {
		t.Errorf("jobRoleArn %s is not the role of job-role.json (%s)", c.JobRoleArn, role.RoleName)
	}
	var trust policyDoc
	if err := json.Unmarshal([]byte(role.AssumeRolePolicyDocument), &trust); err != nil {
		t.Fatalf("job-role.json AssumeRolePolicyDocument: %v", err)
	}
	if svc := trust.Statement[0].Principal["Service"]; len(svc) != 1 || svc[0] != "ecs-tasks.amazonaws.com" {
		t.Errorf("job role trusts %v, want ecs-tasks.amazonaws.com (Batch jobs on ECS)", svc)
	}

	// Resources and what the export is told about them.
	var vcpus, memMiB int
	for _, r := range c.ResourceRequirements {
		n, _ := strconv.Atoi(r.Value)
		switch r.Type {
		case "VCPU":
			vcpus = n
		case "MEMORY":
			memMiB = n
		}
	}
	if vcpus == 0 || memMiB == 0 {
		t.Fatalf("resourceRequirements %+v: want VCPU and MEMORY", c.ResourceRequirements)
	}
	checkWorkerEnv(t, "job definition", c.Environment, vcpus*1000, int64(memMiB)<<20)

	// Retries: Spot reclaims, not application failures.
	rs := def.RetryStrategy
	ev := rs.EvaluateOnExit
	if rs.Attempts != 5 || len(ev) != 2 ||
		ev[0].OnStatusReason != "Host EC2*" || ev[0].Action != "RETRY" ||
		ev[1].OnReason != "*" || ev[1].Action != "EXIT" {
		t.Errorf("retryStrategy %+v: want 5 attempts, RETRY on statusReason Host EC2* (Spot reclaim), EXIT on anything else", rs)
	}
	if def.Timeout.AttemptDurationSeconds < 3600 {
		t.Errorf("timeout %ds: want an attempt timeout of hours", def.Timeout.AttemptDurationSeconds)
	}

	// The array job: its size is the shard count the binary is told.
	size := sub.ArrayProperties.Size
	if size < 2 || size > 10_000 {
		t.Errorf("array size %d: Batch arrays hold 2 to 10,000 jobs", size)
	}
	for what, kvs := range map[string][]keyValue{"submission": sub.ContainerOverrides.Environment, "job definition": c.Environment} {
		if v, ok := env(kvs, "PERISCOPE_SUNSET_SHARD_COUNT"); !ok || v != strconv.Itoa(size) {
			t.Errorf("%s: PERISCOPE_SUNSET_SHARD_COUNT=%q, want the array size %d", what, v, size)
		}
		if _, ok := env(kvs, "PERISCOPE_SUNSET_SHARD_INDEX"); ok {
			t.Errorf("%s sets PERISCOPE_SUNSET_SHARD_INDEX, which would hide AWS_BATCH_JOB_ARRAY_INDEX", what)
		}
	}
	if sub.JobQueue != q.JobQueueName || sub.JobDefinition != def.JobDefinitionName {
		t.Errorf("submission to %s with %s; the queue is %s and the definition %s",
			sub.JobQueue, sub.JobDefinition, q.JobQueueName, def.JobDefinitionName)
	}
}

// checkWorkerEnv checks the export's settings against the container's
// resources: four workers per vCPU, two 8 MiB parts per worker within half
// the memory, and a Go memory limit under the container's.
func checkWorkerEnv(t *testing.T, what string, kvs []keyValue, milliCPU int, memory int64) {
	t.Helper()
	workers, _ := env(kvs, "PERISCOPE_SUNSET_WORKERS")
	if w, _ := strconv.Atoi(workers); w*1000 != 4*milliCPU {
		t.Errorf("%s: PERISCOPE_SUNSET_WORKERS=%q for %d mCPU, want 4 per vCPU", what, workers, milliCPU)
	}
	budget, _ := env(kvs, "PERISCOPE_SUNSET_MEMORY_BUDGET")
	w, _ := strconv.Atoi(workers)
	if b := parseBytes(t, budget); b != int64(w)*16<<20 || b > memory/2 {
		t.Errorf("%s: PERISCOPE_SUNSET_MEMORY_BUDGET=%q, want 16 MiB per worker, at most half of %d bytes", what, budget, memory)
	}
	limit, _ := env(kvs, "GOMEMLIMIT")
	if l := parseBytes(t, limit); l <= 0 || l >= memory {
		t.Errorf("%s: GOMEMLIMIT=%q, want under the container's %d bytes", what, limit, memory)
	}
}

// parseBytes reads 448MiB, 12GiB, 12Gi: binary units only.
func parseBytes(t *testing.T, s string) int64 {
	t.Helper()
	m := regexp.MustCompile(`^([0-9]+)(Ki|Mi|Gi|KiB|MiB|GiB)?$`).FindStringSubmatch(s)
	if m == nil {
		t.Errorf("size %q: want a number with Ki/Mi/Gi(B)", s)
		return 0
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	switch strings.TrimSuffix(m[2], "B") {
	case "Ki":
		n <<= 10
	case "Mi":
		n <<= 20
	case "Gi":
		n <<= 30
	}
	return n
}
