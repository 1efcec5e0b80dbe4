package portal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

func TestWeakSecretsRefused(t *testing.T) {
	random := make([]byte, 64)
	rand.Read(random)
	cases := map[string]string{
		"32 spaces":               strings.Repeat(" ", 32),
		"32 a's":                  strings.Repeat("a", 32),
		"64 a's":                  strings.Repeat("a", 64),
		"two letters":             strings.Repeat("ab", 16),
		"8-byte pattern":          strings.Repeat("abcdefgh", 4),
		"16 hex digits twice":     strings.Repeat("0123456789abcdef", 2),
		"a word repeated":         strings.Repeat("password", 8),
		"random pattern repeated": strings.Repeat(hex.EncodeToString(random[:4]), 8),
		"zeros":                   string(make([]byte, 32)),
		"binary digits":           binaryDigits(random),
		"31 random bytes":         string(random[:31]),
		"keyboard walk":           "qwertyuiopqwertyuiopqwertyuiopqw",
	}
	for name, secret := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewSigner([]byte(secret))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, "/dev/urandom") {
				t.Errorf("error does not say how to make a good secret: %v", err)
			}
			if len(strings.TrimSpace(secret)) > 0 && strings.Contains(msg, secret) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

func binaryDigits(b []byte) string {
	var s strings.Builder
	for _, c := range b[:8] {
		for i := range 8 {
			s.WriteByte('0' + c>>i&1)
		}
	}
	return s.String()
}

// Secrets made as the error suggests, or with openssl rand -hex 32, are
// always accepted: the estimate must not refuse one now and then.
func TestRandomSecretsAccepted(t *testing.T) {
	for i := range 2000 {
		b := make([]byte, 32)
		rand.Read(b)
		for name, secret := range map[string][]byte{
			"raw":    b,
			"hex":    []byte(hex.EncodeToString(b)),
			"base64": []byte(base64.StdEncoding.EncodeToString(b)),
		} {
			if _, err := NewSigner(secret); err != nil {
				t.Fatalf("try %d: %s of 32 random bytes refused: %v", i, name, err)
			}
		}
	}
	if _, err := NewSigner(bytes.Clone(testSecret)); err != nil {
		t.Fatal(err)
	}
}

func TestLinkTTLCeiling(t *testing.T) {
	dst, err := blob.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	emit := func(Link) error { return nil }
	for _, ttl := range []time.Duration{MaxLinkTTL + time.Second, 292 * 365 * 24 * time.Hour} {
		opts := LinkOptions{BaseURL: "https://x", TTL: ttl}
		if err := Links(context.Background(), dst, testSigner(t), opts, emit); err == nil {
			t.Errorf("TTL %v accepted", ttl)
		}
	}
	opts := LinkOptions{BaseURL: "https://x", TTL: MaxLinkTTL}
	if err := Links(context.Background(), dst, testSigner(t), opts, emit); err != nil {
		t.Errorf("TTL of a year: %v", err)
	}
}
