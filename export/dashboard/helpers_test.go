package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

// midExport is real state on versitygw in the middle of a shutdown:
// shard 0 of 2 finished with failures, shard 1 running now (held on one
// user's replay until the test ends), the runbook scheduled, sign-ups
// blocked and proven, one notify report, two portal downloads.
type midExport struct {
	src, dst blob.Store
	state    *sunset.State
	emails   []string // every address in users.jsonl
}

// badLines are users.jsonl lines that fail: an id that is an address,
// and a duplicate.
const badLines = `{"id":"mallory@example.net","email":"mallory@example.net"}
{"id":"u000001","email":"dup@example.org"}
`

func newMidExport(t *testing.T) *midExport {
	t.Helper()
	ctx := context.Background()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	dir := t.TempDir()
	src, err := blob.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.Generate(ctx, src, fixtures.Options{Users: 10, Broadcasts: 1, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, export.UsersKey)
	f, err := os.OpenFile(users, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(badLines)
	f.Close()
	linkThumbnailOut(t, dir)
	m := &midExport{src: src, dst: srv.Store(t, bucket, "exports")}
	raw, _ := os.ReadFile(users)
	for _, w := range strings.FieldsFunc(string(raw), func(r rune) bool { return strings.ContainsRune(`{}":, `+"\n", r) }) {
		if strings.Contains(w, "@") {
			m.emails = append(m.emails, w)
		}
	}
	if len(m.emails) < 10 {
		t.Fatalf("users.jsonl has %d addresses, want the fixtures' ones: %s", len(m.emails), raw)
	}

	// Shard 0 runs to the end; its failures are the bad lines in it.
	if _, err := export.Run(ctx, src, m.dst, export.Options{ShardIndex: 0, ShardCount: 2, Workers: 2}); err != nil {
		var pe *export.PartialError
		if !errors.As(err, &pe) {
			t.Fatalf("shard 0: %v", err)
		}
	}
	m.startShard1(t, src)
	m.state = sunset.Open(srv.Store(t, bucket, "state"), sunset.Options{Actor: "ops@example.com"})
	m.writeState(t)
	m.writeNotifyReport(t)
	return m
}

// startShard1 runs shard 1 with one worker and holds it on the third of
// its users' replays, so two users are done and a run is in progress.
func (m *midExport) startShard1(t *testing.T, src blob.Store) {
	t.Helper()
	var mine []string
	for i := 1; i <= 10; i++ {
		if id := fmt.Sprintf("u%06d", i); export.ShardOf(id, 2) == 1 {
			mine = append(mine, fmt.Sprintf("u%06d", i))
		}
	}
	if len(mine) < 3 {
		t.Fatalf("shard 1 has %d users: %v", len(mine), mine)
	}
	h := &holdStore{Store: src, prefix: "broadcasts/" + mine[2] + "/", reached: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		export.Run(ctx, h, m.dst, export.Options{ShardIndex: 1, ShardCount: 2, Workers: 1})
	}()
	t.Cleanup(func() {
		close(h.release)
		cancel()
		<-done
	})
	select {
	case <-h.reached:
	case <-done:
		t.Fatal("shard 1 ended before it reached the held user")
	case <-time.After(2 * time.Minute):
		t.Fatal("shard 1 never reached the held user")
	}
}

// holdStore blocks reads under prefix until release is closed.
type holdStore struct {
	blob.Store
	prefix           string
	once             sync.Once
	reached, release chan struct{}
}

func (h *holdStore) hold(key string) {
	if strings.HasPrefix(key, h.prefix) {
		h.once.Do(func() { close(h.reached) })
		<-h.release
	}
}

func (h *holdStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	h.hold(key)
	return h.Store.Get(ctx, key)
}

func (h *holdStore) Open(ctx context.Context, key string) (blob.ReaderAt, error) {
	h.hold(key)
	return h.Store.Open(ctx, key)
}

func (m *midExport) writeState(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := m.state.Schedule(ctx, sunset.ScheduleRequest{Stores: []string{"apple", "google"},
		At: time.Now().Add(30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.state.Block(ctx, sunset.BlockRequest{Reason: "the service shuts down; write to help@example.com"}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []sunset.Event{
		{Action: "signups.verify", Subject: "POST https://app.example/signup?token=s3cr3t-probe-token", Result: "proven",
			Detail: "410 Gone for probe@example.com"},
		{Action: "portal.download", Subject: "u000002", Result: "redirect", Detail: "part 1 of 1"},
		{Action: "portal.download", Subject: "u000002", Result: "redirect", Detail: "part 1 of 1"},
	} {
		if err := m.state.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

// writeNotifyReport stores a notify run's report as notify writes it.
func (m *midExport) writeNotifyReport(t *testing.T) {
	t.Helper()
	body := `{"run_id":"20260101T000000Z-aa","started_at":"2026-01-01T00:00:00Z","finished_at":"2026-01-01T00:01:00Z",
"counts":{"sent":3,"failed":1,"no-email":2},"users":[{"user":"u000004","status":"failed","reason":"451 try later"}],
"sent":["u000001","u000003","u000005"]}`
	if _, err := m.dst.Put(context.Background(), "_runs/notify/20260101T000000Z-aa.json", strings.NewReader(body), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// linkThumbnailOut turns the thumbnail of a shard 0 user into a link that
// leads out of the source: the export omits it, with its reason.
func linkThumbnailOut(t *testing.T, dir string) {
	t.Helper()
	for i := 1; i <= 10; i++ {
		id := fmt.Sprintf("u%06d", i)
		if export.ShardOf(id, 2) != 0 {
			continue
		}
		thumbs, _ := filepath.Glob(filepath.Join(dir, "broadcasts", id, "*", "thumbnail.jpg"))
		if len(thumbs) == 0 {
			continue
		}
		os.Remove(thumbs[0])
		if err := os.Symlink("/etc/hostname", thumbs[0]); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("no shard 0 user with a thumbnail")
}
