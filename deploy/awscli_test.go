package deploy_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAWSCLIAcceptsInputs hands every file to the real AWS CLI, as the
// runbook does, pointed at a closed port on loopback with dummy keys: the
// CLI validates the input, then fails to connect. Getting as far as the
// connection proves the CLI took the file.
func TestAWSCLIAcceptsInputs(t *testing.T) {
	aws := awsCLI(t)
	if v, err := exec.Command(aws, "--version").CombinedOutput(); err == nil {
		t.Logf("%s: %s", aws, strings.TrimSpace(string(v)))
	}
	endpoint := closedEndpoint(t)
	for _, in := range cliInputs {
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
	for _, name := range []string{"aws", "/usr/bin/aws"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no AWS CLI: install Debian's awscli (apt-get install awscli) or pip install awscli")
	return ""
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
