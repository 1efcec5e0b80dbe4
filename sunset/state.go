package sunset

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// Options say who acts and when. The zero value is usable: actor
// "unknown", the system clock, real writes.
type Options struct {
	// Actor names who makes the changes, for the audit log.
	Actor string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// DryRun makes every change report what it would do and store
	// nothing. Wrap the store in blob.DryRun as well for a second guard.
	DryRun bool
	// Lease is how long a tick's claim on a step holds before another
	// tick may take the step over (default 10 minutes). A step runs with
	// a deadline of half the lease.
	Lease time.Duration
}

const defaultLease = 10 * time.Minute

// State is the runbook's state in one store.
type State struct {
	st    blob.Store
	actor string
	now   func() time.Time
	dry   bool
	lease time.Duration
}

// Open returns the state kept in st.
func Open(st blob.Store, o Options) *State {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &State{
		st:    st,
		actor: cmp.Or(o.Actor, "unknown"),
		now:   func() time.Time { return now().UTC() },
		dry:   o.DryRun,
		lease: cmp.Or(max(o.Lease, 0), defaultLease),
	}
}

// Store names the store for messages.
func (s *State) Store() string { return s.st.String() }

// ConflictError is a change that lost to another one made since its
// inputs were read.
type ConflictError struct {
	What string    // "sign-up flag", "schedule", "step delist-apple"
	By   string    // who made the winning change, when known
	At   time.Time // when, when known
	Err  error     // wraps blob.ErrPrecondition
}

func (e *ConflictError) Error() string {
	who := ""
	if e.By != "" {
		who = fmt.Sprintf(" (by %s at %s)", e.By, e.At.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("the %s changed since it was read%s; rerun to see the new state", e.What, who)
}

func (e *ConflictError) Unwrap() error { return e.Err }

// IsConflict reports whether err is a lost race (a ConflictError or a bare
// failed precondition).
func IsConflict(err error) bool { return errors.Is(err, blob.ErrPrecondition) }

// StoreOptions tune OpenURL's S3 access; the zero value uses the standard
// AWS configuration chain (AWS_ENDPOINT_URL_S3 included).
type StoreOptions struct {
	S3Endpoint  string // for S3-compatible servers
	S3PathStyle bool   // address buckets as https://host/bucket
}

// OpenURL opens the state at a local folder, a file:///path or an
// s3://bucket/prefix URL. It is how programs outside this module, which
// cannot name the internal store package, embed the gate (package
// sunset/gate):
//
//	state, err := sunset.OpenURL(ctx, "s3://ops/sunset", sunset.Options{}, sunset.StoreOptions{})
//	signups, err := gate.ParseRoutes([]string{"POST /signup"})
//	g := gate.New(state.GateSource(), gate.Options{SignupRoutes: signups})
//	go g.Run(ctx)
//	http.ListenAndServe(":8080", g.Wrap(mux))
func OpenURL(ctx context.Context, rawURL string, o Options, so StoreOptions) (*State, error) {
	st, err := blob.Open(ctx, rawURL, blob.S3Config{Endpoint: so.S3Endpoint, PathStyle: so.S3PathStyle})
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", rawURL, err)
	}
	return Open(st, o), nil
}
