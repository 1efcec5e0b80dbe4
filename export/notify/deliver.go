package notify

import (
	"context"
	"errors"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// deliver claims the user, sends msg and records the outcome. The claim
// is written before the message goes, so a crash at any point never leads
// to a second message without an operator's say-so.
func (r *runner) deliver(ctx context.Context, uid, fp string, msg *mail.Msg) Outcome {
	o := Outcome{User: uid}
	d, err := r.decide(ctx, uid, fp)
	if err != nil {
		o.Status, o.Reason = StatusFailed, err.Error()
		return o
	}
	if !d.send {
		o.Status, o.Reason = d.status, d.reason
		return o
	}
	if r.opts.DryRun {
		o.Status = StatusWouldSend
		return o
	}
	claim := record{State: stateSending, RunID: r.opts.RunID, Export: fp, At: r.opts.Now().UTC()}
	etag, err := writeRecord(ctx, r.dst, uid, d.etag, claim)
	if errors.Is(err, blob.ErrPrecondition) {
		o.Status, o.Reason = StatusBusy, "another run claimed this user first"
		return o
	}
	if err != nil {
		o.Status, o.Reason = StatusFailed, err.Error()
		return o
	}
	verdict, reason := r.send(ctx, msg)
	// The outcome is recorded even if the run is being interrupted.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return r.settle(wctx, uid, etag, claim, verdict, reason)
}

// sent is the verdict of a send that the server accepted.
const sent Verdict = -1

// send tries msg, retrying temporary refusals with backoff, every try
// paced by the shared rate limit.
func (r *runner) send(ctx context.Context, msg *mail.Msg) (Verdict, string) {
	for attempt := 0; ; attempt++ {
		if err := r.limit.Wait(ctx); err != nil {
			return Temporary, "interrupted before sending"
		}
		err := r.opts.Sender.Send(ctx, msg)
		if err == nil {
			return sent, ""
		}
		v, reason := Classify(err)
		if v != Temporary || attempt >= r.opts.Retries {
			return v, reason
		}
		select {
		case <-ctx.Done():
			return Temporary, "interrupted while waiting to retry: " + reason
		case <-time.After(r.opts.Backoff << attempt):
		}
	}
}

// settle records how the send ended.
func (r *runner) settle(ctx context.Context, uid, etag string, claim record, v Verdict, reason string) Outcome {
	o := Outcome{User: uid, Reason: reason}
	rec := claim
	rec.At = r.opts.Now().UTC()
	switch v {
	case sent:
		o.Status, rec.State = StatusSent, stateSent
	case Permanent:
		o.Status, rec.State, rec.Reason = StatusRefused, stateFailed, reason
	case Unknown:
		// Leave the claim: the message may have gone.
		o.Status = StatusUnknown
		o.Reason = reason + "; the message may have been delivered: check the mail log, then --resend " + uid
		return o
	default:
		// Not delivered: release the claim so the next run tries again.
		o.Status = StatusFailed
		if err := r.dst.Delete(ctx, RecordKey(uid)); err != nil {
			o.Reason += "; could not release the claim (" + err.Error() + "): the next run lists it as unknown"
		}
		return o
	}
	if _, err := writeRecord(ctx, r.dst, uid, etag, rec); err != nil {
		r.opts.Log.Warn("could not record the outcome; the claim stays as unknown", "user", uid, "outcome", rec.State, "err", err)
		if v == sent {
			o.Reason = "sent, but the record stays \"sending\": " + err.Error()
		}
	}
	return o
}
