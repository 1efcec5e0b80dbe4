package dashboard

import (
	"reflect"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export"
)

func TestDashboardGroupFailures(t *testing.T) {
	fs := []export.Failure{
		{User: "u1", Reason: "export u1: upload part 3: SlowDown"},
		{User: "u2", Reason: "export u2: upload part 12: SlowDown"},
		{User: "u3", Reason: "export u3: upload part 1: SlowDown"},
		{User: "bad@example.com", Reason: `users.jsonl line 7: invalid user id "bad@example.com": must match ^[A-Za-z0-9_-]{1,64}$`},
		{Reason: "users.jsonl line 9: not JSON"},
		{User: "u4", Reason: "export u4: read broadcasts/u4/b1/replay.mp4: object does not exist"},
	}
	got := groupFailures(fs, 2)
	want := []FailureGroup{
		{Reason: "export <user>: upload part N: SlowDown", Count: 3, Users: []string{"u1", "u2"}},
		{Reason: "export <user>: read broadcasts/<user>/b1/replay.mp4: object does not exist", Count: 1, Users: []string{"u4"}},
		{Reason: `users.jsonl line N: invalid user id "<user>": must match ^[A-Za-z0-9_-]{1,64}$`, Count: 1},
		{Reason: "users.jsonl line N: not JSON", Count: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups:\n%+v\nwant\n%+v", got, want)
	}
}
