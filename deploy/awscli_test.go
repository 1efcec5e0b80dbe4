package deploy_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
)

// TestAWSCLIAcceptsInputs is a smoke test with the real AWS CLI, as the
// runbook uses it: a Batch file and an IAM file, pointed at a closed port
// on loopback with dummy keys. The CLI validates the input, then fails to
// connect; getting as far as the connection proves the CLI took the file.
// Only these two: the CLI's model is whatever the machine's awscli carries
// (Debian's is older than the Spot allocation strategies the compute
// environments use), while TestCLIInputsMatchTheAWSModel checks every file
// against the SDK model pinned in go.mod.
func TestAWSCLIAcceptsInputs(t *testing.T) {
	aws := awsCLI(t)
	if v, err := exec.Command(aws, "--version").CombinedOutput(); err == nil {
		t.Logf("%s: %s", aws, strings.TrimSpace(string(v)))
	}
	endpoint := closedEndpoint(t)
	for _, in := range cliInputs {
		if in.file != "aws-batch/job-queue.json" && in.file != "aws-batch/job-role.json" {
			continue
		}
		t.Run(in.file, func(t *testing.T) {
			out := runAWS(t, aws, endpoint, in.service, in.operation, in.file)
			if !strings.Contains(out, "Could not connect to the endpoint URL") {
				t.Errorf("aws %s %s did not get as far as sending:\n%s", in.service, kebab(in.operation), out)
			}
		})
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"jobQueueName":"q","priority":1,"computeEnvironmentOrder":[],"prioritty":2}`), 0o644)
	if out := runAWS(t, aws, endpoint, "batch", "CreateJobQueue", bad); !strings.Contains(out, "Parameter validation failed") {
		t.Errorf("the CLI took a misspelt key:\n%s", out)
	}
}

func awsCLI(t *testing.T) string {
	t.Helper()
	return need.Program(t, "scripts/install-deps (Debian's awscli)", "aws", "/usr/bin/aws")
}

// closedEndpoint is an http:// URL on loopback where nothing listens.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func runAWS(t *testing.T, aws, endpoint, service, operation, file string) string {
	t.Helper()
	abs, _ := filepath.Abs(file)
	cmd := exec.Command(aws, service, kebab(operation), "--cli-input-json", "file://"+abs, "--endpoint-url", endpoint)
	home := t.TempDir()
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1", "AWS_RETRY_MODE=standard",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("aws %s %s succeeded against a closed port:\n%s", service, kebab(operation), out)
	}
	return string(out)
}

// kebab turns CreateComputeEnvironment into create-compute-environment.
func kebab(op string) string {
	return strings.ToLower(regexp.MustCompile(`([a-z0-9])([A-Z])`).ReplaceAllString(op, "$1-$2"))
}
