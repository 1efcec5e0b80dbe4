package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// exportUser exports one user, or skips it when an existing manifest was
// made from the same source. It never returns an error: failures become the
// outcome's reason. Transient failures (throttling, resets, timeouts) are
// retried with backoff; bad input is not.
func (r *runner) exportUser(ctx context.Context, u User) Outcome {
	var o Outcome
	for attempt := 1; ; attempt++ {
		var err error
		o, err = r.tryUser(ctx, u)
		if err == nil {
			return o
		}
		wait, retry := r.retryAfter(err, attempt)
		if !retry || attempt >= r.opts.Attempts || ctx.Err() != nil {
			if attempt > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return r.failed(o, err)
		}
		r.opts.Log.Warn("retrying user", "user", u.ID, "attempt", attempt, "in", wait, "err", err)
		if !sleep(ctx, wait) {
			return r.failed(o, err)
		}
	}
}

func (r *runner) tryUser(ctx context.Context, u User) (Outcome, error) {
	o := Outcome{User: u.ID}
	plan, err := planUser(ctx, r.src, u, r.remux.enabled())
	if err != nil {
		return o, err
	}
	defer plan.src.Close()
	o.Warnings = plan.Warnings
	if r.opts.Strict {
		if err := strictError(plan.Omitted); err != nil {
			return o, err
		}
	}
	// What the manifest says is read before the claim is ours, so it may
	// be stale by the time we write: another run may have finished or
	// replaced the export in between. Every decision taken on it is
	// checked again once the claim is held, by a second read where the
	// export is being replaced or the claim was taken over (rare), and by
	// create-only writes on the usual path (a fresh claim, no manifest).
	old, done, err := r.existing(ctx, plan)
	if err != nil || done {
		return skippedIf(o, done, err)
	}
	uctx, release, fresh, err := r.acquireClaim(ctx, u.ID)
	if err != nil {
		return o, err
	}
	defer release()
	o, err = r.writeClaimed(uctx, o, plan, old, fresh)
	if cause := context.Cause(uctx); err != nil && ctx.Err() == nil && errors.Is(cause, errClaimLost) {
		err = cause // not the cancellation it caused
	}
	return o, err
}

// writeClaimed writes the user whose claim is held (fresh: no claim was
// there before), given what the manifest said before the claim (old).
func (r *runner) writeClaimed(ctx context.Context, o Outcome, plan *userPlan, old *Manifest, fresh bool) (Outcome, error) {
	var done bool
	var err error
	if !fresh || old != nil {
		if old, done, err = r.existing(ctx, plan); err != nil || done {
			return skippedIf(o, done, err)
		}
	}
	// Leftovers (open multipart uploads, parts no manifest lists) come only
	// from a killed attempt, which leaves its claim, or from an export
	// being replaced. A failed attempt cleans up after itself.
	tidy := !fresh || old != nil
	if tidy {
		r.abortLeftovers(ctx, plan.User.ID)
	}
	exclusive := !tidy
	planned := len(plan.Warnings)
	m, err := r.write(ctx, plan, old, tidy, exclusive)
	if exclusive && errors.Is(err, blob.ErrPrecondition) {
		plan.Warnings = plan.Warnings[:planned] // writing again adds its own
		// Something is where a part goes: look again.
		if old, done, err = r.existing(ctx, plan); err != nil || done {
			return skippedIf(o, done, err)
		}
		// No finished export: what is in the way is a part a failed
		// attempt could not remove. Replace it, and tidy up after.
		r.abortLeftovers(ctx, plan.User.ID)
		m, err = r.write(ctx, plan, old, true, false)
	}
	o.Warnings = plan.Warnings // writing may have added some
	if err != nil {
		return o, err
	}
	o.Status, o.Bytes, o.Omitted = StatusExported, m.Bytes, m.Omitted
	return o, nil
}

// skippedIf ends an attempt that found the user's export done (another
// run's, or an earlier one's) or could not tell.
func skippedIf(o Outcome, done bool, err error) (Outcome, error) {
	if done && err == nil {
		o.Status = StatusSkipped
	}
	return o, err
}

// existing reads the user's manifest: done when it describes an export of
// this very source in the current format, old when it describes another.
func (r *runner) existing(ctx context.Context, plan *userPlan) (old *Manifest, done bool, err error) {
	old, err = ReadManifest(ctx, r.dst, plan.User.ID)
	switch {
	case err == nil && old.SourceFingerprint == plan.Fingerprint && old.Format == formatVersion:
		return old, true, nil
	case err != nil && !isNotExist(err) && old == nil:
		return nil, false, fmt.Errorf("read existing manifest: %w", err)
	}
	return old, false, nil
}

// abortLeftovers aborts multipart uploads a killed run left under the
// user's folder. Holding the user's claim, no live writer can own them.
func (r *runner) abortLeftovers(ctx context.Context, uid string) {
	a, ok := blob.As[blob.UploadAborter](r.dst)
	if !ok {
		return
	}
	n, err := a.AbortIncompleteUploads(ctx, uid+"/")
	if err != nil {
		r.opts.Log.Warn("could not abort leftover uploads", "user", uid, "err", err)
	} else if n > 0 {
		r.opts.Log.Info("aborted leftover uploads", "user", uid, "uploads", n)
	}
}

// retryAfter says whether a failed attempt is worth another, and when: a
// transient error or a lost claim after a backoff, a user claimed by
// another live run once its claim would expire.
func (r *runner) retryAfter(err error, attempt int) (time.Duration, bool) {
	var claimed *ClaimedError
	if errors.As(err, &claimed) {
		wait := min(claimed.ExpiresAt.Sub(r.opts.Now()), r.opts.ClaimTTL)
		return max(wait, 0) + backoff(r.opts.RetryBackoff, 1), true
	}
	if errors.Is(err, errClaimLost) { // the next attempt finds who has it
		return backoff(r.opts.RetryBackoff, attempt), true
	}
	return backoff(r.opts.RetryBackoff, attempt), blob.IsTransient(err)
}

// backoff is base·2^(attempt-1), with up to 50% jitter so users that
// failed together do not retry together.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << (attempt - 1)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *runner) failed(o Outcome, err error) Outcome {
	o.Status = StatusFailed
	o.Reason = fmt.Sprintf("user %s: %v", o.User, err)
	return o
}

// write produces the user's parts and then manifest.json. An outdated
// manifest is removed first, so no reader ever pairs it with new parts;
// parts the new export no longer has are removed last. Exclusive writes
// every part only where no object is, and fails with blob.ErrPrecondition
// otherwise, leaving nothing of its own behind.
func (r *runner) write(ctx context.Context, plan *userPlan, old *Manifest, tidy, exclusive bool) (*Manifest, error) {
	uid := plan.User.ID
	if old != nil {
		if err := r.dst.Delete(ctx, manifestKey(uid)); err != nil {
			return nil, fmt.Errorf("remove outdated manifest: %w", err)
		}
	}
	now := r.opts.Now().UTC()
	m := &Manifest{
		Format: formatVersion, FormatVersion: FormatVersion, UserID: uid, ToolVersion: r.opts.ToolVersion, RunID: r.opts.RunID,
		CreatedAt: now.Format("2006-01-02T15:04:05Z"), SourceFingerprint: plan.Fingerprint,
		Broadcasts: len(plan.Broadcasts), Omitted: plan.Omitted,
	}
	parts := splitParts(plan.Media, r.opts.MaxPartSize)
	chats := newChatBudget()
	for i, entries := range parts {
		n := i + 1
		key := partKey(uid, n, len(parts))
		var tail func(*partWriter) error
		hint := sizeOf(entries)
		if n == len(parts) {
			tail = func(p *partWriter) error { return r.writeBagFiles(p, plan, m) }
			hint += bagFilesHint
		}
		p := &partWriter{src: plan.src, part: n, bytes: r.opts.Progress.Bytes, remux: r.remux, exclusive: exclusive,
			warn: func(w string) { plan.Warnings = append(plan.Warnings, w) }}
		p.chats = chats
		rec, files, err := p.write(ctx, r.dst, key, entries, hint, tail)
		if err != nil {
			r.removeParts(ctx, m.Parts)
			return nil, fmt.Errorf("part %d of %d: %w", n, len(parts), err)
		}
		m.Parts = append(m.Parts, rec)
		m.Files = append(m.Files, files...)
		m.Bytes += rec.Size
	}
	if err := r.putManifest(ctx, m); err != nil {
		// A manifest that appeared meanwhile is another writer's: parts
		// written over others' are theirs now, while exclusive parts were
		// new, so ours, and are not what it lists.
		if exclusive || !errors.Is(err, blob.ErrPrecondition) {
			r.removeParts(ctx, m.Parts)
		}
		return nil, err
	}
	if tidy {
		r.removeStale(ctx, uid, m)
	}
	return m, nil
}

// removeParts deletes the parts a failed attempt stored, so that it leaves
// nothing a later attempt must look for. Best effort: a rerun after a kill
// still tidies up through the claim it finds. Not once the claim is lost:
// the worker that has it may have written the same keys since.
func (r *runner) removeParts(ctx context.Context, parts []PartRecord) {
	if errors.Is(context.Cause(ctx), errClaimLost) {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, p := range parts {
		if err := r.dst.Delete(dctx, p.Key); err != nil {
			r.opts.Log.Warn("could not remove a part of a failed attempt", "key", p.Key, "err", err)
		}
	}
}

// writeBagFiles adds, at the end of the last part, the generated payload
// (profile and broadcast index), the viewer and the BagIt tag files, whose
// checksums need every payload file's hash.
func (r *runner) writeBagFiles(p *partWriter, plan *userPlan, m *Manifest) error {
	now := r.opts.Now()
	profile, err := indentJSON(plan.User.Raw)
	if err != nil {
		return fmt.Errorf("profile.json: %w", err)
	}
	index, err := json.MarshalIndent(plan.Broadcasts, "", "  ")
	if err != nil {
		return err
	}
	generated := []bagFile{{"data/profile.json", profile}, {"data/broadcasts.json", append(index, '\n')}}
	if len(plan.Omitted) > 0 {
		omitted, err := json.MarshalIndent(plan.Omitted, "", "  ")
		if err != nil {
			return err
		}
		generated = append(generated, bagFile{OmittedName, append(omitted, '\n')})
	}
	for _, f := range generated {
		if _, err := p.addBody(f.name, f.body, now); err != nil {
			return err
		}
	}
	payload := append(append([]FileRecord(nil), m.Files...), p.files...)
	m.PayloadOxum = payloadOxum(payload)
	viewer, err := renderViewer(plan.User, plan.Broadcasts, plan.Omitted, r.opts.ToolVersion)
	if err != nil {
		return fmt.Errorf("index.html: %w", err)
	}
	var tags []FileRecord
	for _, f := range []struct {
		name string
		body []byte
	}{
		{viewerHTML, viewer},
		{bagitTxt, []byte(bagitDeclaration)},
		{bagInfoTxt, bagInfo(plan.User.ID, r.opts.ToolVersion, now.UTC().Format("2006-01-02"), m.PayloadOxum)},
		{manifestTxt, checksumFile(payload)},
	} {
		rec, err := p.addBody(f.name, f.body, now)
		if err != nil {
			return err
		}
		tags = append(tags, rec)
	}
	_, err = p.addBody(tagManifestTxt, checksumFile(tags), now)
	return err
}

// bagFile is a file the export generates into the bag.
type bagFile struct {
	name string
	body []byte
}

func indentJSON(raw []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}

func (r *runner) putManifest(ctx context.Context, m *Manifest) error {
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	// IfNoneMatch: a finished export is never overwritten, even by a second
	// worker that somehow got the same user.
	_, err = r.dst.Put(ctx, manifestKey(m.UserID), strings.NewReader(string(body)+"\n"),
		blob.PutOptions{SizeHint: int64(len(body) + 1), ContentType: "application/json", IfNoneMatch: true, Archival: true})
	if err != nil {
		return fmt.Errorf("write %s: %w", ManifestName, err)
	}
	return nil
}

// removeStale deletes zip parts of an earlier export of this user that the
// new manifest does not list (the part count changed). Failure here only
// leaves unreferenced bytes behind, so it is logged, not fatal.
func (r *runner) removeStale(ctx context.Context, uid string, m *Manifest) {
	keep := map[string]bool{}
	for _, p := range m.Parts {
		keep[p.Key] = true
	}
	err := r.dst.List(ctx, uid+"/periscope-"+uid, func(info blob.Info) error {
		if !keep[info.Key] && strings.HasSuffix(info.Key, ".zip") {
			return r.dst.Delete(ctx, info.Key)
		}
		return nil
	})
	if err != nil {
		r.opts.Log.Warn("could not remove stale parts", "user", uid, "err", err)
	}
}
