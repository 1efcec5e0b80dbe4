package asctest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// checkToken verifies an App Store Connect bearer token: the ES256
// signature against the server's public key, the header and every claim.
func (s *Server) checkToken(auth string) error {
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return errors.New("no Bearer token")
	}
	return VerifyToken(tok, &s.Key.PublicKey, s.KeyID, s.IssuerID, s.now())
}

// VerifyToken checks an App Store Connect token as Apple does.
func VerifyToken(tok string, pub *ecdsa.PublicKey, keyID, issuer string, now time.Time) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("want 3 dot-separated parts, got %d", len(parts))
	}
	enc := base64.RawURLEncoding
	var hdr map[string]any
	if err := decodeSegment(parts[0], &hdr); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if hdr["alg"] != "ES256" || hdr["kid"] != keyID || hdr["typ"] != "JWT" || len(hdr) != 3 {
		return fmt.Errorf("header %v: want exactly alg ES256, kid %s, typ JWT", hdr, keyID)
	}
	var c struct {
		Iss string   `json:"iss"`
		Iat *float64 `json:"iat"`
		Exp *float64 `json:"exp"`
		Aud string   `json:"aud"`
	}
	if err := decodeSegment(parts[1], &c); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	if c.Iss != issuer || c.Aud != "appstoreconnect-v1" || c.Iat == nil || c.Exp == nil {
		return fmt.Errorf("claims iss %q aud %q: want iss %s, aud appstoreconnect-v1, iat and exp", c.Iss, c.Aud, issuer)
	}
	iat, exp := time.Unix(int64(*c.Iat), 0), time.Unix(int64(*c.Exp), 0)
	switch {
	case exp.Sub(iat) > 20*time.Minute:
		return fmt.Errorf("lifetime %v is over 20 minutes", exp.Sub(iat))
	case !exp.After(now):
		return errors.New("token expired")
	case iat.After(now.Add(time.Minute)):
		return errors.New("token issued in the future")
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("signature: want 64 bytes r||s, got %d (%v)", len(sig), err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, sv := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, sv) {
		return errors.New("signature does not verify with the team's public key")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
