package notify

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/periscope-sunset/periscope-sunset/export/portal"
)

// DefaultRate is messages per second unless told otherwise: under Amazon
// SES's smallest production sending quota (14/s).
const DefaultRate = 10

// DefaultSubject is the email's subject unless told otherwise.
const DefaultSubject = "Your video archive is ready to download"

// Sender delivers one message. The SMTP sender is the real one; errors it
// returns are classified by Classify.
type Sender interface {
	Send(ctx context.Context, m *mail.Msg) error
}

// Milestone is a dated shutdown step named in the email.
type Milestone struct {
	Title string
	At    time.Time
}

// Options say whom to mail and how. Signer, BaseURL, From and Sender (unless
// DryRun) are required; the zero value of everything else is a default.
type Options struct {
	BaseURL string         // the portal's public address
	Signer  *portal.Signer // the secret `serve` is given
	TTL     time.Duration  // how long the links work (default portal.DefaultLinkTTL)
	From    string         // the sender's address, parsed strictly
	// FromName is the sender's display name, e.g. "Periscope" (optional).
	FromName string
	Subject  string // default DefaultSubject
	Sender   Sender // nil only in a dry run
	// Templates renders the message (default: the built-in ones).
	Templates *Templates
	// Milestones are the shutdown dates the email names, if known.
	Milestones []Milestone
	// Rate is messages per second (default DefaultRate).
	Rate float64
	// Workers is how many users are handled at once (default 4).
	Workers int
	// Retries is how many times a temporary (4xx) refusal is retried
	// (default 4), waiting Backoff, 2*Backoff, ... (default 2s) between.
	Retries int
	Backoff time.Duration
	// DryRun renders and counts every message and sends or writes nothing.
	DryRun bool
	// RenotifyChanged mails users whose export changed since their email.
	RenotifyChanged bool
	// Resend names users whose "sending" (unknown) or "failed" record may
	// be replaced and the email sent again, after an operator checked.
	Resend []string
	// RunID names this run in records and the report (default: time-based).
	RunID string
	// Progress receives per-user outcomes (default: none).
	Progress Progress
	// Log gets warnings that carry user ids, never addresses or links.
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	o.TTL = cmp.Or(max(o.TTL, 0), portal.DefaultLinkTTL)
	o.Subject = cmp.Or(o.Subject, DefaultSubject)
	o.Rate = cmp.Or(max(o.Rate, 0), DefaultRate)
	o.Workers = cmp.Or(max(o.Workers, 0), 4)
	o.Retries = cmp.Or(max(o.Retries, 0), 4)
	o.Backoff = cmp.Or(max(o.Backoff, 0), 2*time.Second)
	if o.Templates == nil {
		o.Templates = BuiltinTemplates()
	}
	if o.Progress == nil {
		o.Progress = nopProgress{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RunID == "" {
		o.RunID = "notify-" + o.Now().UTC().Format("20060102T150405Z") + "-" + randomHex(3)
	}
	return o
}

// Progress receives a run's progress; calls come from many goroutines.
type Progress interface {
	// Start is called once with the number of users, or -1 when unknown.
	Start(users int)
	// Done is called once per user read.
	Done(o Outcome)
}

type nopProgress struct{}

func (nopProgress) Start(int)    {}
func (nopProgress) Done(Outcome) {}
