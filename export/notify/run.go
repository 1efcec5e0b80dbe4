package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wneessen/go-mail"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// user is what a message needs from a users.jsonl line.
type user struct {
	ID    string
	Email string
	Name  string
	line  int
	bad   error
}

type runner struct {
	dst    blob.Store
	opts   Options
	from   string
	expiry time.Time
	resend map[string]bool
	limit  *rate.Limiter
	rep    *Report
}

// Run mails every user of src's users.jsonl whose export in dst is
// complete, as Options say, and stores a report in dst (not in a dry run).
// It returns the report, with an *export.PartialError when some users were
// not mailed and need a look, or another error when the run could not
// proceed.
func Run(ctx context.Context, src, dst blob.Store, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	r, err := newRunner(dst, opts)
	if err != nil {
		return nil, err
	}
	if total, err := export.CountUsers(ctx, src); err == nil {
		opts.Progress.Start(total)
	} else {
		opts.Progress.Start(-1)
	}
	err = r.run(ctx, src)
	r.rep.finish(opts.Now(), err)
	if !opts.DryRun {
		// The report is written even when interrupted: it says who was mailed.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, r.rep.store(wctx, dst))
	}
	if err != nil {
		return r.rep, err
	}
	if n := r.rep.Failed(); n > 0 {
		total := 0
		for _, c := range r.rep.Counts {
			total += c
		}
		return r.rep, &export.PartialError{Failed: n, Total: total, ReportKey: r.rep.Key()}
	}
	return r.rep, nil
}

func newRunner(dst blob.Store, opts Options) (*runner, error) {
	if opts.Signer == nil {
		return nil, errors.New("notify: no link signer (secret file)")
	}
	// Make one link now, so a bad base URL stops the run before any user.
	if _, err := portal.LinkFor(opts.BaseURL, opts.Signer, &export.Manifest{UserID: "check"}, opts.Now()); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	from, err := ParseAddress(opts.From)
	if err != nil {
		return nil, fmt.Errorf("notify: sender address: %w", err)
	}
	if opts.Sender == nil && !opts.DryRun {
		return nil, errors.New("notify: no mail server")
	}
	r := &runner{dst: dst, opts: opts, from: from, resend: map[string]bool{},
		expiry: opts.Now().Add(opts.TTL),
		limit:  rate.NewLimiter(rate.Limit(opts.Rate), 1),
		rep:    &Report{RunID: opts.RunID, DryRun: opts.DryRun, StartedAt: opts.Now().UTC(), Counts: map[Status]int{}}}
	for _, u := range opts.Resend {
		if !export.ValidID(u) {
			return nil, fmt.Errorf("notify: resend: invalid user id %q", u)
		}
		r.resend[u] = true
	}
	return r, nil
}

// run streams users.jsonl to the workers.
func (r *runner) run(ctx context.Context, src blob.Store) error {
	rc, err := src.Get(ctx, export.UsersKey)
	if err != nil {
		return fmt.Errorf("open %s in %s: %w", export.UsersKey, src, err)
	}
	defer rc.Close()
	users := make(chan user)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(users)
		return export.ReadUsers(gctx, rc, func(u export.User, err error) error {
			select {
			case users <- toUser(u, err):
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	for range r.opts.Workers {
		g.Go(func() error {
			for u := range users {
				o := r.user(gctx, u)
				if gctx.Err() != nil && o.Status == StatusFailed {
					return gctx.Err() // interrupted: not this user's failure
				}
				r.rep.add(o)
				r.opts.Progress.Done(o)
			}
			return nil
		})
	}
	return g.Wait()
}

func toUser(u export.User, err error) user {
	if err != nil {
		var le *export.LineError
		if errors.As(err, &le) {
			// An id that failed the check may hold anything (an address,
			// control characters): only a valid one is repeated.
			id := le.ID
			if !export.ValidID(id) {
				id = ""
			}
			return user{ID: id, line: le.Line, bad: err}
		}
		return user{bad: err}
	}
	var extra struct {
		Email string `json:"email"`
	}
	_ = json.Unmarshal(u.Raw, &extra) // ParseUser already read the line
	name := CleanName(u.DisplayName)
	if name == "" {
		name = CleanName(u.Username)
	}
	return user{ID: u.ID, Email: extra.Email, Name: name, line: u.Line}
}

// user handles one user, from their line to the record of what was sent.
func (r *runner) user(ctx context.Context, u user) Outcome {
	o := Outcome{User: u.ID}
	if u.bad != nil {
		o.Status, o.Reason = StatusBadLine, fmt.Sprintf("users.jsonl line %d: not a usable user record", u.line)
		return o
	}
	if u.Email == "" {
		o.Status = StatusNoEmail
		return o
	}
	m, err := export.ReadManifest(ctx, r.dst, u.ID)
	switch {
	case errors.Is(err, blob.ErrNotExist):
		o.Status = StatusNotReady
		return o
	case err != nil:
		o.Status, o.Reason = StatusFailed, "read manifest.json: "+err.Error()
		return o
	case m.UserID != u.ID:
		o.Status, o.Reason = StatusFailed, "manifest.json names another user"
		return o
	}
	to, err := ParseAddress(u.Email)
	if err != nil {
		o.Status, o.Reason = StatusBadAddress, err.Error()
		return o
	}
	msg, err := r.message(u, to, m)
	if err != nil {
		o.Status, o.Reason = StatusFailed, err.Error()
		return o
	}
	return r.deliver(ctx, u.ID, fingerprint(m), msg)
}

// message renders the email for one user.
func (r *runner) message(u user, to string, m *export.Manifest) (*mail.Msg, error) {
	link, err := portal.LinkFor(r.opts.BaseURL, r.opts.Signer, m, r.expiry)
	if err != nil {
		return nil, err
	}
	text, html, err := r.opts.Templates.render(newData(u, link, r.opts.Milestones))
	if err != nil {
		return nil, err
	}
	msg := mail.NewMsg()
	if err := msg.FromFormat(CleanName(r.opts.FromName), r.from); err != nil {
		return nil, fmt.Errorf("sender address: %w", err)
	}
	if err := msg.To(to); err != nil {
		return nil, errors.New("recipient address refused by the mail library")
	}
	msg.Subject(r.opts.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, text)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	return msg, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
