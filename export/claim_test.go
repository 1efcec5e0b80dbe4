package export

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClaims(t *testing.T) {
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := os.Getppid()
	for _, tc := range []struct {
		name     string
		claim    claim
		exported bool
	}{
		{"live claim of another run is respected", claim{RunID: "other", Host: host, PID: live, ExpiresAt: time.Now().Add(time.Hour)}, false},
		{"live claim on another host is respected", claim{RunID: "other", Host: "elsewhere", PID: 1, ExpiresAt: time.Now().Add(time.Hour)}, false},
		{"expired claim is taken over", claim{RunID: "other", Host: "elsewhere", PID: 1, ExpiresAt: time.Now().Add(-time.Second)}, true},
		{"claim of a dead process here is taken over", claim{RunID: "other", Host: host, PID: dead.Process.Pid, ExpiresAt: time.Now().Add(time.Hour)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcDir, dstDir := copySample(t), t.TempDir()
			body, _ := json.Marshal(tc.claim)
			os.MkdirAll(filepath.Join(dstDir, "frank"), 0o755)
			os.WriteFile(filepath.Join(dstDir, "frank", claimName), body, 0o644)
			rep := runExport(t, fileStore(t, srcDir), fileStore(t, dstDir), Options{
				Only: map[string]bool{"frank": true}, Attempts: 1,
			})
			if got := rep.Users.Exported == 1; got != tc.exported {
				t.Fatalf("exported=%v, want %v; failures %+v", got, tc.exported, rep.Failures)
			}
			if !tc.exported && !strings.Contains(rep.Failures[0].Reason, "being exported by run other") {
				t.Fatalf("reason %q does not name the holder", rep.Failures[0].Reason)
			}
			if _, err := os.Stat(filepath.Join(dstDir, "frank", claimName)); tc.exported && err == nil {
				t.Fatal("claim not released after the export")
			}
		})
	}
}

// A user held by another live run is waited for, then exported once the
// claim expires.
func TestClaimIsWaitedOut(t *testing.T) {
	srcDir, dstDir := copySample(t), t.TempDir()
	body, _ := json.Marshal(claim{RunID: "other", Host: "elsewhere", ExpiresAt: time.Now().Add(300 * time.Millisecond)})
	os.MkdirAll(filepath.Join(dstDir, "frank"), 0o755)
	os.WriteFile(filepath.Join(dstDir, "frank", claimName), body, 0o644)
	rep, err := Run(context.Background(), fileStore(t, srcDir), fileStore(t, dstDir), Options{
		Only: map[string]bool{"frank": true}, RetryBackoff: 10 * time.Millisecond,
	})
	if err != nil || rep.Users.Exported != 1 {
		t.Fatalf("err %v, report %+v", err, rep.Users)
	}
}
