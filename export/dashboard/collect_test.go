package dashboard_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/dashboard"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

// countingStore counts the calls that reach a store, by kind and prefix.
type countingStore struct {
	blob.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingStore) count(kind, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[kind]++
	for _, p := range []string{"_runs/notify/", "audit/"} {
		if strings.HasPrefix(key, p) {
			c.calls[kind+" "+p]++
		}
	}
}

func (c *countingStore) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	c.count("get", key)
	return c.Store.Get(ctx, key)
}

func (c *countingStore) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	c.count("list", prefix)
	return c.Store.List(ctx, prefix, fn)
}

func (c *countingStore) Stat(ctx context.Context, key string) (blob.Info, error) {
	c.count("stat", key)
	return c.Store.Stat(ctx, key)
}

// TestDashboardPageViewsReadNothing: page views render the cached read,
// and a second read fetches no notify report or audit event it has read.
func TestDashboardPageViewsReadNothing(t *testing.T) {
	ctx := context.Background()
	src, _ := blob.NewFile(t.TempDir())
	if _, err := fixtures.Generate(ctx, src, fixtures.Options{Users: 4, Broadcasts: 1, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	rawDst, _ := blob.NewFile(t.TempDir())
	if _, err := export.Run(ctx, src, rawDst, export.Options{}); err != nil {
		t.Fatal(err)
	}
	m := &midExport{dst: rawDst}
	m.writeNotifyReport(t)
	rawState, _ := blob.NewFile(t.TempDir())
	state := sunset.Open(rawState, sunset.Options{Actor: "ops"})
	for range 3 {
		state.Record(ctx, sunset.Event{Action: "portal.download", Subject: "u000001"})
	}
	dst := &countingStore{Store: rawDst, calls: map[string]int{}}
	st := &countingStore{Store: rawState, calls: map[string]int{}}
	col := dashboard.NewCollector(dashboard.Options{Dest: dst, State: sunset.Open(st, sunset.Options{})})
	if _, err := col.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	d0, s0 := dst.snapshot(), st.snapshot()
	if d0["get _runs/notify/"] != 1 || s0["get audit/"] != 3 {
		t.Fatalf("first read: dest %v, state %v", d0, s0)
	}
	srv := httptest.NewServer(dashboard.Handler(col, nil, nil))
	defer srv.Close()
	for range 20 {
		resp, err := srv.Client().Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if d1, s1 := dst.snapshot(), st.snapshot(); !same(d0, d1) || !same(s0, s1) {
		t.Errorf("page views reached the stores: dest %v -> %v, state %v -> %v", d0, d1, s0, s1)
	}
	state.Record(ctx, sunset.Event{Action: "portal.download", Subject: "u000002"})
	snap, err := col.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d2, s2 := dst.snapshot(), st.snapshot()
	if d2["get _runs/notify/"] != 1 || s2["get audit/"] != 4 || snap.Downloads != 4 || snap.NotifySent != 3 {
		t.Errorf("second read: notify reports read %d times (want 1), audit events %d (want 4), downloads %d, sent %d",
			d2["get _runs/notify/"], s2["get audit/"], snap.Downloads, snap.NotifySent)
	}
}

func same(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
