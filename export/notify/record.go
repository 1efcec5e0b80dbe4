package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// RecordName is a user's notification record, next to their manifest.
const RecordName = ".notify.json"

// RecordKey is where a user's notification record lives in the destination.
func RecordKey(uid string) string { return uid + "/" + RecordName }

// Record states.
const (
	stateSending = "sending" // claimed; the message may or may not have gone
	stateSent    = "sent"    // the server accepted the message
	stateFailed  = "failed"  // the server refused it permanently
)

// record is <user>/.notify.json. It holds no address and no link.
type record struct {
	State  string    `json:"state"`
	RunID  string    `json:"run_id"`
	Export string    `json:"export"` // the export's fingerprint when mailed
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// fingerprint names an export's content: its parts and their digests,
// which change whenever the export is rewritten with different bytes.
func fingerprint(m *export.Manifest) string {
	h := sha256.New()
	for _, p := range m.Parts {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", p.Key, p.Size, p.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// readRecord reads a user's record and its ETag; a missing one is
// blob.ErrNotExist.
func readRecord(ctx context.Context, dst blob.Store, uid string) (record, string, error) {
	info, err := dst.Stat(ctx, RecordKey(uid))
	if err != nil {
		return record{}, "", err
	}
	rc, err := dst.Get(ctx, RecordKey(uid))
	if err != nil {
		return record{}, "", err
	}
	defer rc.Close()
	var r record
	if err := json.NewDecoder(io.LimitReader(rc, 1<<16)).Decode(&r); err != nil {
		// Unreadable: treat as a claim whose outcome is unknown.
		return record{State: stateSending, Reason: "unreadable record"}, info.ETag, nil
	}
	return r, info.ETag, nil
}

// writeRecord creates the record (etag "") or replaces the version with
// that ETag; either loses with blob.ErrPrecondition to a concurrent writer.
func writeRecord(ctx context.Context, dst blob.Store, uid, etag string, r record) (string, error) {
	body, _ := json.Marshal(r)
	opts := blob.PutOptions{ContentType: "application/json", IfNoneMatch: etag == "", IfMatch: etag}
	info, err := dst.Put(ctx, RecordKey(uid), bytes.NewReader(body), opts)
	if err != nil {
		return "", fmt.Errorf("user %s: write %s: %w", uid, RecordName, err)
	}
	return info.ETag, nil
}

// decision is what an existing record lets this run do.
type decision struct {
	send   bool   // claim it (replacing etag, when set) and send
	etag   string // the record to replace
	status Status // otherwise, the outcome to report
	reason string
}

// decide reads a user's record and says whether to send, given the
// export's fingerprint and the run's options.
func (r *runner) decide(ctx context.Context, uid, fp string) (decision, error) {
	rec, etag, err := readRecord(ctx, r.dst, uid)
	switch {
	case errors.Is(err, blob.ErrNotExist):
		return decision{send: true}, nil
	case err != nil:
		return decision{}, fmt.Errorf("user %s: read %s: %w", uid, RecordName, err)
	}
	resend := r.resend[uid]
	switch rec.State {
	case stateSent:
		if rec.Export == fp {
			return decision{status: StatusAlreadySent}, nil
		}
		if r.opts.RenotifyChanged {
			return decision{send: true, etag: etag}, nil
		}
		return decision{status: StatusChanged,
			reason: "export changed after the email of run " + rec.RunID + "; --renotify-changed mails it again"}, nil
	case stateFailed:
		if resend {
			return decision{send: true, etag: etag}, nil
		}
		return decision{status: StatusRefused,
			reason: "refused permanently by the mail server in run " + rec.RunID + " (" + rec.Reason + "); fix it, then --resend " + uid}, nil
	default:
		if resend {
			return decision{send: true, etag: etag}, nil
		}
		return decision{status: StatusUnknown,
			reason: "claimed by run " + rec.RunID + " at " + rec.At.UTC().Format(time.RFC3339) +
				" and not confirmed: it may be sending now, or it died mid-send; check the mail log, then --resend " + uid}, nil
	}
}
