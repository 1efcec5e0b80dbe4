package portal

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// MinSecretLen is the shortest secret accepted, in bytes: as long as the
// HMAC-SHA256 output, so the key is never the weak link.
const MinSecretLen = 32

// tokenDomain separates these MACs from anything else the same secret
// might ever sign, and names the token format's version.
const tokenDomain = "periscope-sunset/portal/v1"

// ErrBadToken is every token refusal. The reason (malformed, expired,
// wrong MAC) is in the wrapping message for the server's log; the client
// never sees it.
var ErrBadToken = errors.New("invalid token")

// Signer makes and checks link tokens with one secret. A token is
// "<expiry unix seconds>.<base64url(HMAC-SHA256(secret, domain|user|expiry))>":
// URL-safe as it is, bound to one user id, and checked without a database.
type Signer struct {
	key []byte
}

// NewSigner returns a signer for secret, which must be at least
// MinSecretLen bytes and look random (checkSecret).
func NewSigner(secret []byte) (*Signer, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	return &Signer{key: bytes.Clone(secret)}, nil
}

// ReadSecretFile reads a secret from a file, without the trailing newline
// an editor or `echo` leaves, and checks its length. Errors never include
// the secret.
func ReadSecretFile(name string) (*Signer, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("secret file: %w", err)
	}
	s, err := NewSigner(bytes.TrimRight(b, "\r\n"))
	if err != nil {
		return nil, fmt.Errorf("secret file %s: %w", name, err)
	}
	return s, nil
}

// Sign returns a token for user valid until expiry (rounded down to the
// second).
func (s *Signer) Sign(user string, expiry time.Time) string {
	exp := strconv.FormatInt(expiry.Unix(), 10)
	return exp + "." + base64.RawURLEncoding.EncodeToString(s.mac(user, exp))
}

// Verify checks that token was made by this signer for user and has not
// expired at now, and returns its expiry. Every failure wraps ErrBadToken.
func (s *Signer) Verify(user, token string, now time.Time) (time.Time, error) {
	exp, sig, ok := strings.Cut(token, ".")
	if !ok {
		return time.Time{}, fmt.Errorf("%w: malformed", ErrBadToken)
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	// Only the canonical decimal form: "+12" or "012" would otherwise be a
	// second spelling of the same token.
	if err != nil || sec <= 0 || strconv.FormatInt(sec, 10) != exp {
		return time.Time{}, fmt.Errorf("%w: malformed expiry", ErrBadToken)
	}
	mac, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: malformed signature", ErrBadToken)
	}
	if !hmac.Equal(mac, s.mac(user, exp)) {
		return time.Time{}, fmt.Errorf("%w: signature does not match", ErrBadToken)
	}
	expiry := time.Unix(sec, 0).UTC()
	if !now.Before(expiry) {
		return time.Time{}, fmt.Errorf("%w: expired %s", ErrBadToken, expiry.Format(time.RFC3339))
	}
	return expiry, nil
}

// mac signs the domain, user and expiry, each followed by a NUL byte. User
// ids cannot hold NUL, so no two (user, expiry) pairs sign the same bytes.
func (s *Signer) mac(user, exp string) []byte {
	h := hmac.New(sha256.New, s.key)
	for _, part := range []string{tokenDomain, user, exp} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}
