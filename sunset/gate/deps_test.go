package gate

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoAWSDependency: an app that embeds the gate does not pull in the
// AWS SDK (or the runbook that needs it).
func TestNoAWSDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/aws/") || pkg == "github.com/periscope-sunset/periscope-sunset/sunset" {
			t.Errorf("the gate depends on %s", pkg)
		}
	}
	if !strings.Contains(string(out), "github.com/periscope-sunset/periscope-sunset/sunset/gate") {
		t.Fatalf("go list -deps printed no gate package:\n%s", out)
	}
}
