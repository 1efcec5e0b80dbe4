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

// errClaimLost means the worker stopped writing a user because its claim
// may be another worker's now: taken over, or not renewed in time.
var errClaimLost = errors.New("claim lost")

// acquireClaim takes the user's claim and keeps it fresh until release is
// called. fresh reports that no claim existed: then no earlier attempt was
// killed mid-user, since a killed attempt leaves its claim behind.
//
// The user must be written under the returned context: a claim is a
// promise that nobody else writes the user only while it is ours, so the
// context is cancelled (with errClaimLost as its cause) as soon as that
// may no longer hold: a renewal finds the claim replaced, or renewals fail
// until the claim is about to expire. release deletes the claim only if
// it is still ours.
func (r *runner) acquireClaim(ctx context.Context, uid string) (uctx context.Context, release func(), fresh bool, err error) {
	start := r.opts.Now() // the claim expires no sooner than start + ClaimTTL
	etag, err := r.putClaim(ctx, uid, blob.PutOptions{IfNoneMatch: true})
	fresh = err == nil
	if errors.Is(err, blob.ErrPrecondition) {
		etag, err = r.takeOverClaim(ctx, uid)
	}
	if err != nil {
		return nil, nil, false, err
	}
	uctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	done := make(chan struct{})
	var lost error
	go func() {
		defer close(done)
		lost = r.renewClaim(uctx, uid, etag, start.Add(r.opts.ClaimTTL), stop)
		if lost != nil {
			cancel(lost)
		}
	}()
	return uctx, func() {
		close(stop)
		<-done
		defer cancel(nil)
		if lost != nil {
			r.opts.Log.Warn("claim lost", "user", uid, "err", lost)
			return // not ours to delete
		}
		dctx, cancelDelete := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancelDelete()
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
// Whatever other workers do meanwhile (release the claim between our
// reads, take it first) ends as a claim of ours or a ClaimedError, which
// is waited out: never as a failure of the user.
func (r *runner) takeOverClaim(ctx context.Context, uid string) (string, error) {
	info, err := r.dst.Stat(ctx, claimKey(uid))
	var c claim
	var unreadable error
	if err == nil {
		var rc io.ReadCloser
		if rc, err = r.dst.Get(ctx, claimKey(uid)); err == nil {
			unreadable = json.NewDecoder(io.LimitReader(rc, 1<<16)).Decode(&c)
			rc.Close()
		}
	}
	switch {
	case isNotExist(err): // released meanwhile: try a fresh claim once more
		return r.claimIf(ctx, uid, blob.PutOptions{IfNoneMatch: true})
	case err != nil:
		return "", fmt.Errorf("read claim: %w", err)
	case unreadable == nil && r.opts.Now().Before(c.ExpiresAt) && c.RunID != r.opts.RunID && !c.holderDead():
		return "", &ClaimedError{RunID: c.RunID, ExpiresAt: c.ExpiresAt}
	}
	// Expired, unreadable, ours from an earlier attempt, or its holder is
	// a dead process on this host: take it over.
	return r.claimIf(ctx, uid, blob.PutOptions{IfMatch: info.ETag})
}

// claimIf writes the claim under a condition; another worker meeting it
// first makes the user claimed by that worker.
func (r *runner) claimIf(ctx context.Context, uid string, opts blob.PutOptions) (string, error) {
	etag, err := r.putClaim(ctx, uid, opts)
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

// renewClaim extends the claim (which expires no sooner than expires)
// every ClaimRenewal until stop. It returns early, saying why, once the
// claim may no longer be ours: a renewal found it replaced (taken over),
// or renewals failed until the claim was within a sixth of its lifetime of
// expiring (a margin for the clocks of other hosts, which judge its
// expiry). Failed renewals are retried every twelfth of the lifetime.
func (r *runner) renewClaim(ctx context.Context, uid, etag string, expires time.Time, stop <-chan struct{}) error {
	ttl := r.opts.ClaimTTL
	every, retry, margin := ClaimRenewal(ttl), ttl/12, ttl/6
	t := time.NewTimer(every)
	defer t.Stop()
	var last error
	for {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := r.opts.Now()
		if !now.Before(expires.Add(-margin)) {
			return fmt.Errorf("%w: could not renew it before it expired: %v", errClaimLost, last)
		}
		next, err := r.putClaim(ctx, uid, blob.PutOptions{IfMatch: etag})
		switch {
		case errors.Is(err, blob.ErrPrecondition):
			return fmt.Errorf("%w: another run took it over", errClaimLost)
		case err != nil:
			last = err
			r.opts.Log.Warn("could not renew claim", "user", uid, "err", err)
			t.Reset(min(retry, max(expires.Add(-margin).Sub(now), 0)))
		default:
			etag, expires, last = next, now.Add(ttl), nil
			t.Reset(every)
		}
	}
}
