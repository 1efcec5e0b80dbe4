package mailpittest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLS says how a server started with StartTLS speaks TLS.
type TLS int

const (
	// STARTTLS offers and requires STARTTLS on the SMTP port (smtp://).
	STARTTLS TLS = iota
	// Implicit speaks TLS from the first byte (smtps://).
	Implicit
)

// StartTLS runs mailpit with a fresh self-signed certificate for 127.0.0.1
// and localhost. It returns the server and the certificate's PEM file,
// which clients trust through their root pool (or SSL_CERT_FILE for a
// subprocess).
func StartTLS(t testing.TB, mode TLS, extra ...string) (*Server, string) {
	t.Helper()
	certFile, keyFile := selfSigned(t)
	flags := []string{"--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile}
	if mode == Implicit {
		flags = append(flags, "--smtp-require-tls")
	} else {
		flags = append(flags, "--smtp-require-starttls")
	}
	return Start(t, append(flags, extra...)...), certFile
}

// RootCAs is a pool holding the certificate in certFile.
func RootCAs(t testing.TB, certFile string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no certificate in %s", certFile)
	}
	return pool
}

// TLSConfig trusts certFile for the server name host.
func TLSConfig(t testing.TB, certFile, host string) *tls.Config {
	return &tls.Config{RootCAs: RootCAs(t, certFile), ServerName: host, MinVersion: tls.VersionTLS12}
}

func selfSigned(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "mailpit test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
