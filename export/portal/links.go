package portal

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/names"
)

// DefaultLinkTTL is how long a portal link works unless told otherwise:
// long enough for a mailing and its reminders.
const DefaultLinkTTL = 30 * 24 * time.Hour

// MaxPresignTTL is the longest an S3 presigned URL can last (SigV4).
const MaxPresignTTL = 7 * 24 * time.Hour

// linkBatch is how many manifests are read at once; rows come out in
// user order, one batch at a time, so memory stays bounded however many
// users there are.
const linkBatch = 64

// LinkOptions say which links to make. The zero value means every
// completed export, links valid for DefaultLinkTTL from now.
type LinkOptions struct {
	// BaseURL is where the portal is reached, e.g. https://download.example.com
	// (portal links only).
	BaseURL string
	// TTL is how long the links work.
	TTL time.Duration
	// Users restricts the links to these ids; empty means every user with
	// a completed export.
	Users []string
	// NotReady, when set, is called for each id in Users that has no
	// completed export; those get no row.
	NotReady func(user string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o LinkOptions) withDefaults() LinkOptions {
	o.TTL = cmp.Or(max(o.TTL, 0), DefaultLinkTTL)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Link is one row for the mailer: a user's portal link.
type Link struct {
	UserID    string    `json:"user_id"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	Parts     int       `json:"parts"`
	Bytes     int64     `json:"bytes"`
}

// PartLink is one row of direct links: a presigned S3 URL for one part.
type PartLink struct {
	UserID    string    `json:"user_id"`
	Part      int       `json:"part"`
	Parts     int       `json:"parts"`
	File      string    `json:"file"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
}

// Links calls emit with a portal link for every completed export (or
// those of opts.Users), in user order.
func Links(ctx context.Context, dst blob.Store, s *Signer, opts LinkOptions, emit func(Link) error) error {
	opts = opts.withDefaults()
	base, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return err
	}
	expiry := opts.Now().Add(opts.TTL).Truncate(time.Second).UTC()
	return eachManifest(ctx, dst, opts, func(m *export.Manifest) error {
		return emit(newLink(base, s, m, expiry))
	})
}

// LinkFor returns the portal link for one completed export, valid until
// expiry (rounded down to the second): what Links emits for that user, for
// callers such as the notification mailer that read manifests themselves.
func LinkFor(baseURL string, s *Signer, m *export.Manifest, expiry time.Time) (Link, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return Link{}, err
	}
	if !export.ValidID(m.UserID) {
		return Link{}, fmt.Errorf("invalid user id %q", m.UserID)
	}
	return newLink(base, s, m, expiry.Truncate(time.Second).UTC()), nil
}

func newLink(base string, s *Signer, m *export.Manifest, expiry time.Time) Link {
	return Link{
		UserID:    m.UserID,
		URL:       base + "/u/" + m.UserID + "?token=" + url.QueryEscape(s.Sign(m.UserID, expiry)),
		ExpiresAt: expiry,
		Parts:     len(m.Parts),
		Bytes:     m.Bytes,
	}
}

// PresignLinks calls emit with a presigned GET URL for every part of
// every completed export (or those of opts.Users), for setups without a
// portal. opts.TTL may not exceed MaxPresignTTL.
func PresignLinks(ctx context.Context, dst blob.Store, p Presigner, opts LinkOptions, emit func(PartLink) error) error {
	opts = opts.withDefaults()
	if opts.TTL > MaxPresignTTL {
		return fmt.Errorf("presigned S3 URLs last at most 7 days (%v), not %v: "+
			"use portal links, which have no such limit", MaxPresignTTL, opts.TTL)
	}
	expiry := opts.Now().Add(opts.TTL).Truncate(time.Second).UTC()
	return eachManifest(ctx, dst, opts, func(m *export.Manifest) error {
		for i, part := range m.Parts {
			if err := checkPartKey(m.UserID, part.Key); err != nil {
				return err
			}
			file := path.Base(part.Key)
			u, err := p.PresignGet(ctx, part.Key, file, opts.TTL)
			if err != nil {
				return fmt.Errorf("presign %s: %w", part.Key, err)
			}
			row := PartLink{UserID: m.UserID, Part: i + 1, Parts: len(m.Parts), File: file, URL: u,
				ExpiresAt: expiry, Bytes: part.Size, SHA256: part.SHA256}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	})
}

// eachManifest reads the manifests of the chosen users, a batch at a time
// in parallel, and calls fn for each in user order.
func eachManifest(ctx context.Context, dst blob.Store, opts LinkOptions, fn func(*export.Manifest) error) error {
	users := opts.Users
	if len(users) == 0 {
		var err error
		if users, err = export.ListExported(ctx, dst); err != nil {
			return err
		}
	}
	for _, u := range users {
		if !export.ValidID(u) {
			return fmt.Errorf("invalid user id %q", u)
		}
	}
	for start := 0; start < len(users); start += linkBatch {
		batch := users[start:min(start+linkBatch, len(users))]
		ms, err := readManifests(ctx, dst, batch)
		if err != nil {
			return err
		}
		for i, m := range ms {
			if m == nil {
				if opts.NotReady != nil {
					opts.NotReady(batch[i])
				}
				continue
			}
			if err := fn(m); err != nil {
				return err
			}
		}
	}
	return nil
}

// readManifests reads users' manifests in parallel; a user without one
// gets nil.
func readManifests(ctx context.Context, dst blob.Store, users []string) ([]*export.Manifest, error) {
	out := make([]*export.Manifest, len(users))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, u := range users {
		g.Go(func() error {
			m, err := export.ReadManifest(gctx, dst, u)
			switch {
			case errors.Is(err, blob.ErrNotExist):
				return nil
			case err != nil:
				return fmt.Errorf("user %s: %w", u, err)
			case m.UserID != u:
				return fmt.Errorf("user %s: manifest.json names user %q", u, m.UserID)
			}
			out[i] = m
			return nil
		})
	}
	return out, g.Wait()
}

// parseBaseURL checks the portal's public URL and drops a trailing slash.
func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base URL %q: want the portal's public address, e.g. https://download.example.com", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// checkPartKey makes sure a part key read from a manifest names a file
// directly in the user's own folder before it reaches the store.
func checkPartKey(user, key string) error {
	name, ok := strings.CutPrefix(key, user+"/")
	if !ok || name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == ".." ||
		!strings.HasSuffix(name, ".zip") || names.Check(name) != nil {
		return fmt.Errorf("user %s: manifest.json lists unexpected part key %q", user, names.Visible(key))
	}
	return nil
}
