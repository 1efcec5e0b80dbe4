package appstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/asctest"
)

var territories = []string{"USA", "GBR", "FRA", "DEU", "JPN", "BRA", "IND"}

func newClient(t *testing.T, srv *asctest.Server, key *ecdsa.PrivateKey) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: srv.URL, KeyID: srv.KeyID, IssuerID: srv.IssuerID, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRemoveFromSale(t *testing.T) {
	srv := asctest.Start(t, territories...)
	srv.SetUnavailable("FRA")
	key, err := LoadKey(srv.WriteKey(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	d := Delister{Client: newClient(t, srv, key), AppID: srv.AppID}
	ev, err := d.Delist(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ev, "made unavailable in 6 territories; read back: available in 0 of 7") ||
		!strings.Contains(ev, "availableInNewTerritories") {
		t.Errorf("evidence %q", ev)
	}
	if a := srv.Available(); len(a) != 0 {
		t.Fatalf("still available in %v", a)
	}
	patches := srv.Patches()
	for _, c := range territories {
		want := 1
		if c == "FRA" {
			want = 0 // already unavailable: left alone
		}
		if patches[c] != want {
			t.Errorf("%s patched %d times, want %d", c, patches[c], want)
		}
	}
	// The exact conversation: availability, both pages of territories, the
	// PATCHes, then both pages again to read back.
	var got []string
	for _, c := range srv.Calls() {
		got = append(got, c.Method+" "+c.Path)
	}
	list := "GET /v2/appAvailabilities/av-" + srv.AppID + "/territoryAvailabilities"
	want := []string{"GET /v1/apps/" + srv.AppID + "/appAvailabilityV2", list, list, list}
	for _, c := range territories {
		if c != "FRA" {
			want = append(want, "PATCH /v1/territoryAvailabilities/ta-"+c)
		}
	}
	want = append(want, list, list, list)
	if !slices.Equal(got, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range srv.Calls() {
		if c.Method == "PATCH" {
			var body map[string]any
			json.Unmarshal([]byte(c.Body), &body)
			data := body["data"].(map[string]any)
			if data["type"] != "territoryAvailabilities" || data["attributes"].(map[string]any)["available"] != false {
				t.Errorf("PATCH body %s", c.Body)
			}
		}
	}
	if v := srv.Violations(); len(v) != 0 {
		t.Errorf("requests broke the API's rules: %v", v)
	}
	// Idempotent: a second run changes nothing and confirms again.
	ev, err = d.Delist(context.Background())
	if err != nil || !strings.Contains(ev, "made unavailable in 0 territories") {
		t.Fatalf("second run: %q, %v", ev, err)
	}
}

func TestErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		method string
		status int
		code   string
	}{
		{"PATCH", http.StatusConflict, "ENTITY_ERROR.ATTRIBUTE.INVALID"},
		{"PATCH", http.StatusInternalServerError, "UNEXPECTED_ERROR"},
		{"GET", http.StatusForbidden, "FORBIDDEN_ERROR"},
		{"GET", http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			srv := asctest.Start(t, territories...)
			srv.FailNext(tc.method, tc.status, tc.code, "something is wrong")
			c := newClient(t, srv, srv.Key)
			_, err := c.RemoveFromSale(context.Background(), srv.AppID)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tc.status || len(apiErr.Errors) != 1 || apiErr.Errors[0].Code != tc.code {
				t.Fatalf("err = %v, want an APIError %d %s", err, tc.status, tc.code)
			}
			if !strings.Contains(err.Error(), tc.code) || !strings.Contains(err.Error(), "something is wrong") {
				t.Errorf("error text %q does not carry Apple's answer", err)
			}
			if _, err := c.RemoveFromSale(context.Background(), srv.AppID); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if a := srv.Available(); len(a) != 0 {
				t.Fatalf("after the retry still available in %v", a)
			}
			for code, n := range srv.Patches() {
				if n != 1 {
					t.Errorf("%s patched %d times, want 1", code, n)
				}
			}
		})
	}
}

func TestUnknownApp(t *testing.T) {
	srv := asctest.Start(t, territories...)
	_, err := newClient(t, srv, srv.Key).RemoveFromSale(context.Background(), "999")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Fatalf("err = %v, want 404", err)
	}
}

// TestWrongKeyIsRefused: the server checks the signature with the team's
// public key, so a token signed with another key gets 401.
func TestWrongKeyIsRefused(t *testing.T) {
	srv := asctest.Start(t, territories...)
	srv.ExpectBadRequests()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err := newClient(t, srv, other).RemoveFromSale(context.Background(), srv.AppID)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 {
		t.Fatalf("err = %v, want 401", err)
	}
	if v := srv.Violations(); len(v) != 1 || !strings.Contains(v[0], "signature") {
		t.Errorf("violations %v", v)
	}
}

func TestToken(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	tok, err := signToken(key, "KEY123", "issuer-1", now, 20*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := asctest.VerifyToken(tok, &key.PublicKey, "KEY123", "issuer-1", now); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	parts := strings.Split(tok, ".")
	var hdr, claims map[string]any
	decode(t, parts[0], &hdr)
	decode(t, parts[1], &claims)
	if hdr["alg"] != "ES256" || hdr["kid"] != "KEY123" || hdr["typ"] != "JWT" {
		t.Errorf("header %v", hdr)
	}
	if claims["iss"] != "issuer-1" || claims["aud"] != "appstoreconnect-v1" ||
		claims["iat"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(20*time.Minute).Unix()) {
		t.Errorf("claims %v", claims)
	}
	long, _ := signToken(key, "KEY123", "issuer-1", now, 21*time.Minute)
	for name, check := range map[string]error{
		"lifetime over 20 minutes": asctest.VerifyToken(long, &key.PublicKey, "KEY123", "issuer-1", now),
		"wrong kid":                asctest.VerifyToken(tok, &key.PublicKey, "OTHER", "issuer-1", now),
		"wrong issuer":             asctest.VerifyToken(tok, &key.PublicKey, "KEY123", "issuer-2", now),
		"expired":                  asctest.VerifyToken(tok, &key.PublicKey, "KEY123", "issuer-1", now.Add(21*time.Minute)),
		"tampered claims": asctest.VerifyToken(parts[0]+"."+tampered(claims)+"."+parts[2],
			&key.PublicKey, "KEY123", "issuer-1", now),
	} {
		if check == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(Config{Key: key, KeyID: "k", IssuerID: "i", TokenLifetime: 21 * time.Minute}); err == nil {
		t.Error("New accepted a 21-minute token lifetime")
	}
}

// tampered re-encodes claims with a later expiry, keeping the signature.
func tampered(claims map[string]any) string {
	c := map[string]any{}
	for k, v := range claims {
		c[k] = v
	}
	c["exp"] = claims["exp"].(float64) + 1
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decode(t *testing.T, seg string, v any) {
	t.Helper()
	var b []byte
	var err error
	if b, err = base64.RawURLEncoding.DecodeString(seg); err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatalf("decode %q: %v", seg, err)
	}
}

func TestParseKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	good := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if _, err := ParseKey(good); err != nil {
		t.Fatalf("good key: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKCS8PrivateKey(p384)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	derRSA, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	for name, b := range map[string][]byte{
		"not PEM": []byte("hello"),
		"P-384":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der384}),
		"RSA":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: derRSA}),
		"garbage": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der[:20]}),
	} {
		_, err := ParseKey(b)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "PRIVATE KEY-----\n") || strings.Contains(err.Error(), string(good[30:60])) {
			t.Errorf("%s: error quotes the key: %v", name, err)
		}
	}
}

// TestNextLinkToAnotherHost: the token is never sent to a host other than
// the base URL's, even if an answer's pagination link points there.
func TestNextLinkToAnotherHost(t *testing.T) {
	stolen := make(chan string, 1)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen <- r.Header.Get("Authorization")
	}))
	defer evil.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": []any{}, "links": map[string]any{"next": evil.URL + "/v2/x?cursor=1"}})
	}))
	defer api.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c, _ := New(Config{BaseURL: api.URL, KeyID: "k", IssuerID: "i", Key: key})
	if _, err := c.TerritoryAvailabilities(context.Background(), "av"); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v, want a refusal to follow the link", err)
	}
	select {
	case tok := <-stolen:
		t.Fatalf("the token went to another host: %q", tok)
	default:
	}
}
