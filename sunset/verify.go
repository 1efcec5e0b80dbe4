package sunset

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/periscope-sunset/periscope-sunset/sunset/gate"
)

// ProbeRequest describes the probe sign-up `signups verify` sends.
type ProbeRequest struct {
	Endpoint string       // absolute URL of the sign-up route
	Method   string       // default POST
	Client   *http.Client // default: 15s timeout, no redirects followed
}

// ProbeResult is what the live service answered.
type ProbeResult struct {
	Endpoint string    `json:"endpoint"`
	Method   string    `json:"method"`
	Status   int       `json:"status,omitempty"`
	Sunset   string    `json:"sunset,omitempty"`
	SunsetAt time.Time `json:"sunset_at,omitzero"`
	Link     string    `json:"link,omitempty"`
	Code     string    `json:"code,omitempty"` // the refusal body's code
	OK       bool      `json:"ok"`
	Problem  string    `json:"problem,omitempty"`
}

// probeBody carries no user data, so a service that is not gated answers
// with a validation error rather than creating an account.
const probeBody = `{"probe":"periscope-sunset signups verify"}`

// Probe sends one sign-up attempt and checks that it was refused with 410
// Gone and a Sunset header holding a valid HTTP-date.
func Probe(ctx context.Context, req ProbeRequest) ProbeResult {
	res := ProbeResult{Endpoint: req.Endpoint, Method: strings.ToUpper(req.Method)}
	if res.Method == "" {
		res.Method = http.MethodPost
	}
	u, err := url.Parse(req.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		res.Endpoint = "(invalid URL)"
		res.Problem = "endpoint: want an absolute http(s) URL, e.g. https://app.example.com/signup"
		return res
	}
	res.Endpoint = redactURL(u)
	client := req.Client
	if client == nil {
		client = &http.Client{
			Timeout:       15 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	hr, err := http.NewRequestWithContext(ctx, res.Method, req.Endpoint, strings.NewReader(probeBody))
	if err != nil {
		res.Problem = err.Error()
		return res
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", "periscope-sunset-verify")
	resp, err := client.Do(hr)
	if err != nil {
		res.Problem = fmt.Sprintf("request failed: %v", err)
		return res
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res.Status, res.Sunset, res.Link = resp.StatusCode, resp.Header.Get("Sunset"), resp.Header.Get("Link")
	var refusal gate.Refusal
	if json.NewDecoder(bytes.NewReader(body)).Decode(&refusal) == nil {
		res.Code = refusal.Code
	}
	res.Problem = judgeProbe(&res)
	res.OK = res.Problem == ""
	return res
}

func judgeProbe(res *ProbeResult) string {
	if res.Status != http.StatusGone {
		return fmt.Sprintf("sign-up was answered %d %s, want 410 Gone", res.Status, http.StatusText(res.Status))
	}
	if res.Sunset == "" {
		return "410 Gone but no Sunset header"
	}
	t, err := http.ParseTime(res.Sunset)
	if err != nil {
		return fmt.Sprintf("Sunset header %q is not an HTTP-date", res.Sunset)
	}
	res.SunsetAt = t.UTC()
	return ""
}

// redactURL drops credentials and the query from a URL that goes into
// results and the audit log: either may hold a secret.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment = nil, "", false, ""
	return c.String()
}

// ProbeFailedError is a verify whose probe was not refused as it should be.
type ProbeFailedError struct{ Result ProbeResult }

func (e *ProbeFailedError) Error() string {
	return fmt.Sprintf("sign-ups at %s are NOT proven closed: %s", e.Result.Endpoint, e.Result.Problem)
}

// VerifySignups probes the live sign-up route and records the result in
// the audit log, proof or not. It returns a ProbeFailedError when the probe
// was not refused with 410 and a valid Sunset header. A dry run probes but
// records nothing.
func (s *State) VerifySignups(ctx context.Context, req ProbeRequest) (ProbeResult, error) {
	res := Probe(ctx, req)
	outcome := "proven"
	if !res.OK {
		outcome = "failed"
	}
	if err := s.record(ctx, Event{Action: "signups.verify", Subject: res.Method + " " + res.Endpoint,
		Result: outcome, Detail: res.Problem, After: rawJSON(res)}); err != nil {
		return res, err
	}
	if !res.OK {
		return res, &ProbeFailedError{Result: res}
	}
	return res, nil
}
