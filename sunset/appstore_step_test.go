package sunset

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/asctest"
	"github.com/periscope-sunset/periscope-sunset/sunset/appstore"
)

// TestAppleStepAgainstAppStoreConnect runs the delist-apple step with the
// real client against the fake App Store Connect: an error answer leaves
// the step failed, and the next tick retries it to done.
func TestAppleStepAgainstAppStoreConnect(t *testing.T) {
	ctx := context.Background()
	asc := asctest.Start(t, "USA", "GBR", "FRA", "DEU", "JPN")
	client, err := appstore.New(appstore.Config{BaseURL: asc.URL, KeyID: asc.KeyID, IssuerID: asc.IssuerID, Key: asc.Key})
	if err != nil {
		t.Fatal(err)
	}
	apple := appstore.Delister{Client: client, AppID: asc.AppID}
	st, _ := blob.NewFile(t.TempDir())
	clk := newClock(delistDay)
	s := Open(st, clk.opts("cron"))
	schedule(t, s, "apple")

	asc.FailNext("PATCH", 409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "An attribute value is not acceptable for the current resource.")
	_, err = s.Tick(ctx, TickOptions{Apple: apple})
	var sf *StepsFailedError
	if !errors.As(err, &sf) {
		t.Fatalf("tick = %v, want the App Store step failed", err)
	}
	a := statesOf(t, s)[StepDelistApple]
	if a.State != StateFailed || !strings.Contains(a.Error, "409") || !strings.Contains(a.Error, "ENTITY_ERROR.ATTRIBUTE.INVALID") {
		t.Fatalf("delist-apple = %+v, want failed with Apple's 409", a)
	}
	if len(asc.Available()) != 5 {
		t.Fatalf("available in %v after the failed PATCH, want all 5", asc.Available())
	}

	clk.add(time.Minute)
	if _, err := s.Tick(ctx, TickOptions{Apple: apple}); err != nil {
		t.Fatalf("retry tick: %v", err)
	}
	a = statesOf(t, s)[StepDelistApple]
	if a.State != StateDone || a.Attempt != 2 || !strings.Contains(a.Evidence, "available in 0 of 5") {
		t.Fatalf("delist-apple after retry = %+v", a)
	}
	if len(asc.Available()) != 0 {
		t.Fatalf("still available in %v", asc.Available())
	}
	for code, n := range asc.Patches() {
		if n != 1 {
			t.Errorf("%s made unavailable %d times, want once", code, n)
		}
	}
	events, _ := s.Audit(ctx)
	var outcomes []string
	for _, e := range events {
		if e.Subject == StepDelistApple {
			outcomes = append(outcomes, e.Result)
		}
	}
	if strings.Join(outcomes, ",") != "failed,done" {
		t.Errorf("audit of delist-apple: %v, want failed then done", outcomes)
	}
}
