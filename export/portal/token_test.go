package portal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTokenRoundTrip(t *testing.T) {
	s := testSigner(t)
	now := time.Date(2021, 3, 1, 12, 0, 0, 0, time.UTC)
	exp := now.Add(30 * 24 * time.Hour)
	tok := s.Sign("alice", exp)
	if strings.Trim(tok, "0123456789.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != "" {
		t.Fatalf("token %q is not URL-safe", tok)
	}
	got, err := s.Verify("alice", tok, now)
	if err != nil || !got.Equal(exp) {
		t.Fatalf("Verify = %v, %v; want %v", got, err, exp)
	}
}

// TestTokenRefused covers every way a token can be wrong; each must be
// refused with ErrBadToken.
func TestTokenRefused(t *testing.T) {
	s := testSigner(t)
	now := time.Date(2021, 3, 1, 12, 0, 0, 0, time.UTC)
	good := s.Sign("alice", now.Add(time.Hour))
	exp, mac, _ := strings.Cut(good, ".")
	other, _ := NewSigner([]byte("Zr5tK8wQm2XyB7cVn4HjL9pD3sFgA6eR"))
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := map[string]struct{ user, token string }{
		"tampered mac":         {"alice", exp + "." + flip(mac, 5)},
		"tampered expiry":      {"alice", "9" + good},
		"later expiry":         {"alice", s.Sign("alice", now.Add(2*time.Hour))[:len(exp)] + "." + mac},
		"expired":              {"alice", s.Sign("alice", now.Add(-time.Second))},
		"expires right now":    {"alice", s.Sign("alice", now)},
		"other user's":         {"bob_1", good},
		"user prefix":          {"alic", good},
		"truncated":            {"alice", good[:len(good)-1]},
		"truncated to expiry":  {"alice", exp + "."},
		"expiry only":          {"alice", exp},
		"empty":                {"alice", ""},
		"garbage":              {"alice", "garbage"},
		"dot only":             {"alice", "."},
		"padded mac":           {"alice", good + "="},
		"std base64 mac":       {"alice", exp + "." + strings.NewReplacer("-", "+", "_", "/").Replace(mac) + "/"},
		"leading zero expiry":  {"alice", "0" + good},
		"plus expiry":          {"alice", "+" + good},
		"negative expiry":      {"alice", "-1." + mac},
		"other secret":         {"alice", other.Sign("alice", now.Add(time.Hour))},
		"extra dot":            {"alice", good + ".x"},
		"huge expiry":          {"alice", "99999999999999999999." + mac},
		"mac of another token": {"alice", exp + "." + strings.SplitN(s.Sign("bob_1", now.Add(time.Hour)), ".", 2)[1]},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Verify(c.user, c.token, now); !errors.Is(err, ErrBadToken) {
				t.Fatalf("Verify(%q, %q) = %v, want ErrBadToken", c.user, c.token, err)
			}
		})
	}
}

func TestSecretLength(t *testing.T) {
	if _, err := NewSigner(make([]byte, MinSecretLen-1)); err == nil {
		t.Fatal("a 31-byte secret was accepted")
	}
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("hunter2-is-not-a-secret\n"), 0o600)
	_, err := ReadSecretFile(short)
	if err == nil || !strings.Contains(err.Error(), "at least 32") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("short secret file: %v (must refuse, say why, and never show the secret)", err)
	}
	// A trailing newline (echo, editors) is not part of the secret, so a
	// file written either way signs the same tokens.
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, append(testSecret, '\n'), 0o600)
	os.WriteFile(b, testSecret, 0o600)
	sa, err := ReadSecretFile(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := ReadSecretFile(b)
	exp := time.Now().Add(time.Hour)
	if sa.Sign("alice", exp) != sb.Sign("alice", exp) {
		t.Fatal("a trailing newline changed the secret")
	}
	if _, err := ReadSecretFile(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing secret file was accepted")
	}
}
