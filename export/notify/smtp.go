package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/wneessen/go-mail"
)

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	// URL is smtps://host[:465] (implicit TLS) or smtp://host[:587]
	// (STARTTLS required, except to a loopback address when no
	// credentials are given).
	URL string
	// Username and Password, when set, are sent with SMTP AUTH, only over
	// TLS (even to a loopback address).
	Username, Password string
	// TLS overrides the TLS settings (tests give their own roots).
	TLS *tls.Config
	// Timeout bounds each connection's dial and commands (default 30s).
	Timeout time.Duration
}

// SMTPSender sends each message over its own connection, so a broken
// connection never leaves the next user's message in doubt.
type SMTPSender struct {
	host string
	opts []mail.Option
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender checks cfg and returns a sender. It dials nothing yet.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Hostname() == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("SMTP URL: want smtp://HOST:PORT or smtps://HOST:PORT")
	}
	if u.User != nil {
		return nil, fmt.Errorf("SMTP URL: credentials do not go in the URL; give them in the environment or a file")
	}
	host := u.Hostname()
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithTimeout(timeout)}
	tc := cfg.TLS
	if tc == nil {
		tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, mail.WithTLSConfig(tc))
	port := 0
	switch u.Scheme {
	case "smtps":
		port = 465
		opts = append(opts, mail.WithSSL())
	case "smtp":
		port = 587
		policy := mail.TLSMandatory
		if IsLoopback(host) && cfg.Username == "" && cfg.Password == "" {
			// A local relay or test server may not speak TLS; credentials
			// never go without it.
			policy = mail.TLSOpportunistic
		}
		opts = append(opts, mail.WithTLSPolicy(policy))
	default:
		return nil, fmt.Errorf("SMTP URL scheme %q: want smtp (STARTTLS) or smtps (implicit TLS)", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("SMTP URL port %q: want 1-65535", p)
		}
	}
	opts = append(opts, mail.WithPort(port))
	if cfg.Username != "" || cfg.Password != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	return &SMTPSender{host: host, opts: opts}, nil
}

// IsLoopback reports whether host is "localhost" or a loopback IP literal.
// Names are not resolved: a DNS answer is no proof the traffic stays local.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers m over a new connection. The connection's close is not an
// error: once the server accepted the message, a failed QUIT changes
// nothing.
func (s *SMTPSender) Send(ctx context.Context, m *mail.Msg) error {
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("SMTP client: %w", err)
	}
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return &notSentError{err: fmt.Errorf("connect to %s: %w", c.ServerAddr(), err)}
	}
	defer c.CloseWithSMTPClient(conn)
	return c.SendWithSMTPClient(conn, m)
}

// notSentError is a failure before any message was handed over.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// Verdict is what a send error means for the user's record.
type Verdict int

const (
	// Temporary: not delivered, retry later (4xx, or no connection).
	Temporary Verdict = iota
	// Permanent: the server refused the message (5xx); never retried blindly.
	Permanent
	// Unknown: the connection broke while the message was handed over;
	// it may have been delivered.
	Unknown
)

// Classify says what a Sender's error means, and a reason fit for the
// report: the SMTP code and enhanced status, never the server's text
// (which often repeats the address).
func Classify(err error) (Verdict, string) {
	var ns *notSentError
	if errors.As(err, &ns) {
		return Temporary, "could not connect to the mail server: " + ns.Error()
	}
	var se *mail.SendError
	if !errors.As(err, &se) {
		return Unknown, "unexpected send error"
	}
	code := se.ErrorCode()
	reason := fmt.Sprintf("SMTP %d %s during %s", code, se.EnhancedStatusCode(), se.Reason)
	switch {
	case code >= 500 && code < 600:
		return Permanent, reason
	case code >= 400 && code < 500:
		return Temporary, reason
	case se.Reason == mail.ErrWriteContent || se.Reason == mail.ErrSMTPDataClose:
		return Unknown, fmt.Sprintf("connection lost during %s", se.Reason)
	case se.Reason == mail.ErrNoUnencoded || se.Reason == mail.ErrGetSender || se.Reason == mail.ErrGetRcpts:
		return Permanent, fmt.Sprintf("message refused before sending: %s", se.Reason)
	default:
		return Temporary, fmt.Sprintf("no answer during %s", se.Reason)
	}
}
