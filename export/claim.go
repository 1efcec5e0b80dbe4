package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// claimName is a user's lease object. Sharding gives every user to exactly
// one shard, but a Batch job retried while its first attempt still runs, or
// two shards started with the same index, would otherwise write the same
// parts at once. A worker holds the claim while it writes a user's parts,
// renews it as it goes, and deletes it when done; a claim whose holder died
// expires and is taken over with a conditional write, so exactly one taker
// wins.
const claimName = ".claim.json"

func claimKey(uid string) string { return uid + "/" + claimName }

type claim struct {
	RunID     string    `json:"run_id"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ClaimedError means another live run holds the user's claim.
type ClaimedError struct {
	RunID     string
	ExpiresAt time.Time
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("being exported by run %s (claim held until %s); rerun after that to retry",
		e.RunID, e.ExpiresAt.UTC().Format(time.RFC3339))
}

// acquireClaim takes the user's claim and keeps it fresh until release is
// called. fresh reports that no claim existed: then no earlier attempt was
// killed mid-user, since a killed attempt leaves its claim behind.
func (r *runner) acquireClaim(ctx context.Context, uid string) (release func(), fresh bool, err error) {
	etag, err := r.putClaim(ctx, uid, blob.PutOptions{IfNoneMatch: true})
	fresh = err == nil
	if errors.Is(err, blob.ErrPrecondition) {
		etag, err = r.takeOverClaim(ctx, uid)
	}
	if err != nil {
		return nil, false, err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.renewClaim(ctx, uid, etag, stop)
	}()
	return func() {
		close(stop)
		<-done
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		r.dst.Delete(dctx, claimKey(uid))
	}, fresh, nil
}

func (r *runner) putClaim(ctx context.Context, uid string, opts blob.PutOptions) (string, error) {
	host, _ := os.Hostname()
	c := claim{RunID: r.opts.RunID, Host: host, PID: os.Getpid(), ExpiresAt: r.opts.Now().Add(r.opts.ClaimTTL).UTC()}
	body, _ := json.Marshal(c)
	opts.ContentType = "application/json"
	info, err := r.dst.Put(ctx, claimKey(uid), strings.NewReader(string(body)), opts)
	return info.ETag, err
}

// takeOverClaim replaces an expired claim, conditionally on its ETag.
func (r *runner) takeOverClaim(ctx context.Context, uid string) (string, error) {
	info, err := r.dst.Stat(ctx, claimKey(uid))
	if isNotExist(err) { // released meanwhile: try a fresh claim once more
		return r.putClaim(ctx, uid, blob.PutOptions{IfNoneMatch: true})
	}
	if err != nil {
		return "", fmt.Errorf("read claim: %w", err)
	}
	rc, err := r.dst.Get(ctx, claimKey(uid))
	if err != nil {
		return "", fmt.Errorf("read claim: %w", err)
	}
	var c claim
	err = json.NewDecoder(io.LimitReader(rc, 1<<16)).Decode(&c)
	rc.Close()
	if err == nil && r.opts.Now().Before(c.ExpiresAt) && c.RunID != r.opts.RunID && !c.holderDead() {
		return "", &ClaimedError{RunID: c.RunID, ExpiresAt: c.ExpiresAt}
	}
	// Expired, unreadable, ours from an earlier attempt, or its holder is
	// a dead process on this host: take it over.
	etag, err := r.putClaim(ctx, uid, blob.PutOptions{IfMatch: info.ETag})
	if errors.Is(err, blob.ErrPrecondition) {
		return "", &ClaimedError{RunID: "another run", ExpiresAt: r.opts.Now().Add(r.opts.ClaimTTL)}
	}
	return etag, err
}

// holderDead reports whether the claim was taken by a process of this host
// that no longer runs (killed, say, and rerun at once), so its claim need
// not be waited out.
func (c claim) holderDead() bool {
	host, _ := os.Hostname()
	if c.Host != host || c.PID <= 0 || c.PID == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(c.PID, 0), syscall.ESRCH)
}

// renewClaim extends the claim every third of its lifetime until stop.
func (r *runner) renewClaim(ctx context.Context, uid, etag string, stop <-chan struct{}) {
	t := time.NewTicker(ClaimRenewal(r.opts.ClaimTTL))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			next, err := r.putClaim(ctx, uid, blob.PutOptions{IfMatch: etag})
			if err != nil {
				r.opts.Log.Warn("could not renew claim", "user", uid, "err", err)
				continue
			}
			etag = next
		}
	}
}
