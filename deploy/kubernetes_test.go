package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The types below are the part of the Kubernetes API the manifest uses,
// decoded with unknown fields rejected, so a misspelt or misplaced field
// fails the test instead of being ignored by the API server.

type objectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type typeMeta struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
}

type namespace struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
}

type serviceAccount struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
}

type envVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type container struct {
	Name      string   `yaml:"name"`
	Image     string   `yaml:"image"`
	Args      []string `yaml:"args"`
	Env       []envVar `yaml:"env"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

type podFailurePolicyRule struct {
	Action          string `yaml:"action"`
	OnPodConditions []struct {
		Type string `yaml:"type"`
	} `yaml:"onPodConditions"`
	OnExitCodes *struct {
		ContainerName string `yaml:"containerName"`
		Operator      string `yaml:"operator"`
		Values        []int  `yaml:"values"`
	} `yaml:"onExitCodes"`
}

type job struct {
	typeMeta `yaml:",inline"`
	Metadata objectMeta `yaml:"metadata"`
	Spec     struct {
		CompletionMode          string `yaml:"completionMode"`
		Completions             *int   `yaml:"completions"`
		Parallelism             *int   `yaml:"parallelism"`
		BackoffLimitPerIndex    *int   `yaml:"backoffLimitPerIndex"`
		MaxFailedIndexes        *int   `yaml:"maxFailedIndexes"`
		ActiveDeadlineSeconds   int    `yaml:"activeDeadlineSeconds"`
		TTLSecondsAfterFinished int    `yaml:"ttlSecondsAfterFinished"`
		PodFailurePolicy        struct {
			Rules []podFailurePolicyRule `yaml:"rules"`
		} `yaml:"podFailurePolicy"`
		Template struct {
			Metadata objectMeta `yaml:"metadata"`
			Spec     struct {
				ServiceAccountName            string            `yaml:"serviceAccountName"`
				RestartPolicy                 string            `yaml:"restartPolicy"`
				TerminationGracePeriodSeconds int               `yaml:"terminationGracePeriodSeconds"`
				NodeSelector                  map[string]string `yaml:"nodeSelector"`
				SecurityContext               struct {
					RunAsNonRoot   bool `yaml:"runAsNonRoot"`
					RunAsUser      int  `yaml:"runAsUser"`
					RunAsGroup     int  `yaml:"runAsGroup"`
					SeccompProfile struct {
						Type string `yaml:"type"`
					} `yaml:"seccompProfile"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type kubeManifest struct {
	ns  namespace
	sa  serviceAccount
	job job
}

// readKubernetes decodes each document of export-job.yaml into its kind's
// type, rejecting unknown fields.
func readKubernetes(t *testing.T) kubeManifest {
	t.Helper()
	raw, err := os.ReadFile("kubernetes/export-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m kubeManifest
	kinds := map[string]int{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var node yaml.Node
		if err := dec.Decode(&node); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("export-job.yaml: %v", err)
		}
		var tm typeMeta
		if err := node.Decode(&tm); err != nil {
			t.Fatal(err)
		}
		doc, _ := yaml.Marshal(&node)
		strict := yaml.NewDecoder(bytes.NewReader(doc))
		strict.KnownFields(true)
		var target any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Namespace":
			target = &m.ns
		case "v1 ServiceAccount":
			target = &m.sa
		case "batch/v1 Job":
			target = &m.job
		default:
			t.Fatalf("export-job.yaml: unexpected %s %s", tm.APIVersion, tm.Kind)
		}
		if err := strict.Decode(target); err != nil {
			t.Fatalf("export-job.yaml %s: %v", tm.Kind, err)
		}
		kinds[tm.Kind]++
	}
	if kinds["Job"] != 1 || kinds["ServiceAccount"] != 1 {
		t.Fatalf("export-job.yaml holds %v, want one Job and one ServiceAccount", kinds)
	}
	return m
}

func envValue(env []envVar, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestKubernetesIndexedJob checks what the export relies on: one shard per
// completion index, the shard count equal to completions, arm64 nodes, an
// IRSA service account, resources matched to the workers, per-index
// retries that ignore Spot reclaims and evictions.
func TestKubernetesIndexedJob(t *testing.T) {
	m := readKubernetes(t)
	j := m.job
	s := j.Spec
	pod := s.Template.Spec

	if s.CompletionMode != "Indexed" {
		t.Errorf("completionMode %q: want Indexed, so each pod gets JOB_COMPLETION_INDEX", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions < 1 || *s.Parallelism > *s.Completions {
		t.Fatalf("completions %v, parallelism %v: want parallelism <= completions", s.Completions, s.Parallelism)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex < 1 {
		t.Errorf("backoffLimitPerIndex %v: want retries counted per shard", s.BackoffLimitPerIndex)
	}
	if s.ActiveDeadlineSeconds <= 0 {
		t.Error("no activeDeadlineSeconds: the Job would run past any deadline")
	}
	var ignoresDisruption, failsIndexOn3 bool
	for _, r := range s.PodFailurePolicy.Rules {
		for _, c := range r.OnPodConditions {
			if r.Action == "Ignore" && c.Type == "DisruptionTarget" {
				ignoresDisruption = true
			}
		}
		if e := r.OnExitCodes; e != nil && r.Action == "FailIndex" && e.Operator == "In" &&
			len(pod.Containers) > 0 && e.ContainerName == pod.Containers[0].Name && slicesContains(e.Values, 3) {
			failsIndexOn3 = true
		}
	}
	if !ignoresDisruption || !failsIndexOn3 {
		t.Errorf("podFailurePolicy %+v: want Ignore on DisruptionTarget (Spot reclaim, eviction) and FailIndex on exit 3",
			s.PodFailurePolicy)
	}
	if pod.RestartPolicy != "Never" {
		t.Errorf("restartPolicy %q: podFailurePolicy needs Never", pod.RestartPolicy)
	}
	if pod.NodeSelector["kubernetes.io/arch"] != "arm64" {
		t.Errorf("nodeSelector %v: want kubernetes.io/arch: arm64", pod.NodeSelector)
	}

	// IRSA: the Job's service account carries the role.
	if pod.ServiceAccountName != m.sa.Metadata.Name || m.sa.Metadata.Namespace != j.Metadata.Namespace {
		t.Errorf("Job uses service account %s, the manifest defines %s/%s",
			pod.ServiceAccountName, m.sa.Metadata.Namespace, m.sa.Metadata.Name)
	}
	roleARN := m.sa.Metadata.Annotations["eks.amazonaws.com/role-arn"]
	if !regexp.MustCompile(`^arn:aws:iam::[0-9]{12}:role/[\w+=,.@-]+$`).MatchString(roleARN) {
		t.Errorf("service account eks.amazonaws.com/role-arn %q: want an IAM role ARN", roleARN)
	}
	checkIRSATrust(t, roleARN, j.Metadata.Namespace, m.sa.Metadata.Name)

	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "export" {
		t.Errorf("args %v: want export ... (the image's entrypoint is periscope-sunset)", c.Args)
	}
	if got := envValue(c.Env, "PERISCOPE_SUNSET_SHARD_COUNT"); got != strconv.Itoa(*s.Completions) {
		t.Errorf("PERISCOPE_SUNSET_SHARD_COUNT=%q, want completions (%d)", got, *s.Completions)
	}
	if envValue(c.Env, "PERISCOPE_SUNSET_SHARD_INDEX") != "" || envValue(c.Env, "JOB_COMPLETION_INDEX") != "" {
		t.Error("the manifest sets the shard index itself; Kubernetes' JOB_COMPLETION_INDEX must reach the binary")
	}
	for _, k := range []string{"cpu", "memory"} {
		if c.Resources.Requests[k] == "" || c.Resources.Requests[k] != c.Resources.Limits[k] {
			t.Errorf("%s request %q, limit %q: want both, equal", k, c.Resources.Requests[k], c.Resources.Limits[k])
		}
	}
	kv := make([]keyValue, 0, len(c.Env))
	for _, e := range c.Env {
		kv = append(kv, keyValue(e))
	}
	checkWorkerEnv(t, "export-job.yaml", kv, milliCPU(t, c.Resources.Requests["cpu"]), parseBytes(t, c.Resources.Limits["memory"]))

	// Non-root, as the image: the same uid as the Dockerfile's USER.
	d := parseDockerfile(t, "../Dockerfile")
	users := d.Stages[len(d.Stages)-1].all("USER")
	uid, _, _ := strings.Cut(users[len(users)-1].Args, ":")
	sc := pod.SecurityContext
	if !sc.RunAsNonRoot || strconv.Itoa(sc.RunAsUser) != uid {
		t.Errorf("securityContext runAsNonRoot %v runAsUser %d; the image runs as %s", sc.RunAsNonRoot, sc.RunAsUser, uid)
	}
}

// checkIRSATrust checks irsa-role.json: the role the service account names
// trusts exactly that service account through the cluster's OIDC provider.
func checkIRSATrust(t *testing.T, roleARN, ns, sa string) {
	t.Helper()
	var role struct {
		RoleName, Description, AssumeRolePolicyDocument string
		MaxSessionDuration                              int
		Tags                                            []struct{ Key, Value string }
	}
	readJSON(t, "kubernetes/irsa-role.json", &role)
	if !strings.HasSuffix(roleARN, ":role/"+role.RoleName) {
		t.Errorf("service account role %s is not irsa-role.json's %s", roleARN, role.RoleName)
	}
	var p policyDoc
	if err := json.Unmarshal([]byte(role.AssumeRolePolicyDocument), &p); err != nil {
		t.Fatal(err)
	}
	st := p.Statement[0]
	if !slicesContains(st.Action, "sts:AssumeRoleWithWebIdentity") || len(st.Principal["Federated"]) != 1 {
		t.Fatalf("IRSA trust %+v: want sts:AssumeRoleWithWebIdentity from a Federated OIDC provider", st)
	}
	var sub strs
	for k, v := range st.Condition["StringEquals"] {
		if strings.HasSuffix(k, ":sub") {
			sub = v
		}
	}
	if want := "system:serviceaccount:" + ns + ":" + sa; len(sub) != 1 || sub[0] != want {
		t.Errorf("IRSA trust is for %v, want %s", sub, want)
	}
}

func milliCPU(t *testing.T, q string) int {
	t.Helper()
	if m, ok := strings.CutSuffix(q, "m"); ok {
		n, err := strconv.Atoi(m)
		if err != nil {
			t.Fatalf("cpu %q", q)
		}
		return n
	}
	f, err := strconv.ParseFloat(q, 64)
	if err != nil {
		t.Fatalf("cpu %q", q)
	}
	return int(f * 1000)
}

func slicesContains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
