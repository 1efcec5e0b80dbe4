package sunset

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// backends runs fn once on a local folder and once on versitygw.
func backends(t *testing.T, fn func(t *testing.T, newStore func() blob.Store)) {
	t.Run("file", func(t *testing.T) {
		fn(t, func() blob.Store {
			st, err := blob.NewFile(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
	t.Run("s3", func(t *testing.T) {
		srv := s3test.Start(t)
		fn(t, func() blob.Store { return srv.Store(t, srv.NewBucket(t), "ops/sunset") })
	})
}

// clock is a settable test clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) now() time.Time            { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)           { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration)       { c.ns.Add(int64(d)) }
func (c *clock) opts(actor string) Options { return Options{Actor: actor, Now: c.now} }

// raceStore holds the first n Puts whose key match accepts until all n
// have arrived (or a timeout passes), so that n writers that read the same
// state write at the same moment: the race the conditional writes settle.
type raceStore struct {
	blob.Store
	match func(key string) bool
	n     int

	mu      sync.Mutex
	arrived int
	release chan struct{}
}

func newRaceStore(st blob.Store, n int, match func(string) bool) *raceStore {
	return &raceStore{Store: st, match: match, n: n, release: make(chan struct{})}
}

func (r *raceStore) Put(ctx context.Context, key string, rd io.Reader, opts blob.PutOptions) (blob.Info, error) {
	if r.match(key) {
		r.mu.Lock()
		r.arrived++
		first := r.arrived <= r.n
		if r.arrived == r.n {
			close(r.release)
		}
		r.mu.Unlock()
		if first {
			select {
			case <-r.release:
			case <-time.After(10 * time.Second):
			}
		}
	}
	return r.Store.Put(ctx, key, rd, opts)
}

// listKeys returns every key under prefix.
func listKeys(t *testing.T, st blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := st.List(context.Background(), prefix, func(i blob.Info) error {
		keys = append(keys, i.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func countActions(t *testing.T, s *State, action string) int {
	t.Helper()
	events, err := s.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == action {
			n++
		}
	}
	return n
}
