package appstore

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is App Store Connect's API.
const DefaultBaseURL = "https://api.appstoreconnect.apple.com"

// Config is what a Client needs. Key, KeyID and IssuerID are required.
type Config struct {
	BaseURL       string            // default DefaultBaseURL
	KeyID         string            // the API key's id: the token's kid
	IssuerID      string            // the team's issuer id: the token's iss
	Key           *ecdsa.PrivateKey // from the .p8 file (LoadKey)
	HTTPClient    *http.Client      // default: 30s timeout
	Now           func() time.Time  // default time.Now
	TokenLifetime time.Duration     // default 15 minutes; at most MaxTokenLifetime
}

// Client calls App Store Connect. It is safe for concurrent use.
type Client struct {
	base   *url.URL
	keyID  string
	issuer string
	key    *ecdsa.PrivateKey
	hc     *http.Client
	now    func() time.Time
	life   time.Duration
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.Key == nil:
		return nil, errors.New("App Store Connect: no API key")
	case cfg.KeyID == "":
		return nil, errors.New("App Store Connect: no key id")
	case cfg.IssuerID == "":
		return nil, errors.New("App Store Connect: no issuer id")
	case cfg.TokenLifetime > MaxTokenLifetime:
		return nil, fmt.Errorf("App Store Connect: token lifetime %v is over the %v Apple accepts", cfg.TokenLifetime, MaxTokenLifetime)
	}
	base, err := url.Parse(cmp.Or(cfg.BaseURL, DefaultBaseURL))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("App Store Connect: base URL %q: want https://host", cfg.BaseURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	c := &Client{base: base, keyID: cfg.KeyID, issuer: cfg.IssuerID, key: cfg.Key,
		hc: cfg.HTTPClient, now: cfg.Now, life: cmp.Or(max(cfg.TokenLifetime, 0), 15*time.Minute)}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// APIError is an error answer: the HTTP status and the JSON:API errors.
type APIError struct {
	Method, Path string
	Status       int
	Errors       []ErrorItem
}

// ErrorItem is one entry of an error answer's errors array.
type ErrorItem struct {
	ID     string `json:"id,omitempty"`
	Status string `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "App Store Connect %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	for _, it := range e.Errors {
		fmt.Fprintf(&b, "; %s: %s", it.Code, cmp.Or(it.Detail, it.Title))
	}
	return b.String()
}

// do sends one request. target is a path under the base URL or an absolute
// URL on the same host (a pagination link); the token is never sent to
// another host.
func (c *Client) do(ctx context.Context, method, target string, body, out any) error {
	u, err := c.resolve(target)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	token, err := signToken(c.key, c.keyID, c.issuer, c.now(), c.life)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("App Store Connect %s %s: %w", method, u.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("App Store Connect %s %s: read answer: %w", method, u.Path, err)
	}
	if resp.StatusCode >= 300 {
		apiErr := &APIError{Method: method, Path: u.Path, Status: resp.StatusCode}
		var doc struct {
			Errors []ErrorItem `json:"errors"`
		}
		if json.Unmarshal(raw, &doc) == nil {
			apiErr.Errors = doc.Errors
		}
		return apiErr
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("App Store Connect %s %s: decode answer: %w", method, u.Path, err)
		}
	}
	return nil
}

func (c *Client) resolve(target string) (*url.URL, error) {
	if strings.HasPrefix(target, "/") {
		u := *c.base
		p, q, _ := strings.Cut(target, "?")
		u.Path, u.RawQuery = c.base.Path+p, q
		return &u, nil
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return nil, fmt.Errorf("App Store Connect: refusing to follow link to another host: %q", target)
	}
	return u, nil
}
