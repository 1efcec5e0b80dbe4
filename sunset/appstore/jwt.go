package appstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// Audience is the aud claim App Store Connect requires.
const Audience = "appstoreconnect-v1"

// MaxTokenLifetime is the longest lifetime App Store Connect accepts.
const MaxTokenLifetime = 20 * time.Minute

// ParseKey reads a .p8 API key: a PKCS#8 PEM block holding a P-256 key.
// Errors never quote the key.
func ParseKey(p8 []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(p8)
	if block == nil {
		return nil, errors.New("not a PEM file (a .p8 key starts with -----BEGIN PRIVATE KEY-----)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a PKCS#8 private key")
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key, as App Store Connect keys are")
	}
	return ec, nil
}

// LoadKey reads a .p8 key file.
func LoadKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("App Store Connect key: %w", err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("App Store Connect key %s: %w", path, err)
	}
	return k, nil
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

type jwtClaims struct {
	Iss string `json:"iss"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
	Aud string `json:"aud"`
}

// signToken makes an ES256 JWT: base64url(header).base64url(claims).
// base64url(r || s), r and s 32 bytes big-endian each (RFC 7518 3.4).
func signToken(key *ecdsa.PrivateKey, keyID, issuer string, now time.Time, life time.Duration) (string, error) {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(jwtHeader{Alg: "ES256", Kid: keyID, Typ: "JWT"})
	c, _ := json.Marshal(jwtClaims{Iss: issuer, Iat: now.Unix(), Exp: now.Add(life).Unix(), Aud: Audience})
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign App Store Connect token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig), nil
}
