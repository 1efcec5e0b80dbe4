// Package s3test runs a real S3 server for tests: versitygw with its posix
// backend on a temporary folder, one process per Start, listening on a
// free loopback port with random root credentials. Tests then make a bucket
// each, so they can run in parallel against one server.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/syncbuf"
)

// EnvBinary names the environment variable that points at a versitygw
// binary, overriding <module root>/bin/versitygw and $PATH.
const EnvBinary = "PERISCOPE_SUNSET_VERSITYGW"

const startTimeout = 15 * time.Second

// Server is a running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:port
	AccessKey string
	SecretKey string
	Region    string
}

// Start runs versitygw until the test ends. A missing binary fails the
// test (it never skips, so CI cannot pass without the S3 tests).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := findBinary(t)
	out := &syncbuf.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("versitygw output:\n%s", out)
		}
	})
	g, err := Launch(bin, t.TempDir(), out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	return &Server{Endpoint: g.Endpoint, AccessKey: g.AccessKey, SecretKey: g.SecretKey, Region: g.Region}
}

func findBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v; run scripts/install-versitygw", EnvBinary, p, err)
		}
		return p
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	need.Missing(t, "versitygw not found: run scripts/install-versitygw (installs bin/versitygw), or set "+EnvBinary)
	return ""
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working folder")
		}
		dir = parent
	}
}

// Client returns an SDK client for the server, for checks that go around
// the store.
func (s *Server) Client(t testing.TB) *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  s.credentials(),
	})
}

func (s *Server) credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")
}

// CreateBucket makes a bucket, failing the test if it cannot.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	_, err := s.Client(t).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name})
	if err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

var bucketSeq atomic.Int64

// NewBucket makes a bucket with a name no other test of this process uses.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test-%d-%s", bucketSeq.Add(1), randomHex(4))
	s.CreateBucket(t, name)
	return name
}

// Store returns a store on bucket/prefix. It passes the credentials
// explicitly, because parallel tests cannot set environment variables.
func (s *Server) Store(t testing.TB, bucket, prefix string) *blob.S3Store {
	t.Helper()
	return s.StoreConfig(t, bucket, prefix, blob.S3Config{})
}

// StoreConfig is Store with cfg's budget, concurrency and pool size; the
// server's endpoint and credentials replace cfg's.
func (s *Server) StoreConfig(t testing.TB, bucket, prefix string, cfg blob.S3Config) *blob.S3Store {
	t.Helper()
	cfg.Endpoint, cfg.PathStyle, cfg.Region = s.Endpoint, true, s.Region
	cfg.Credentials = s.credentials()
	st, err := blob.NewS3(context.Background(), bucket, prefix, cfg)
	if err != nil {
		t.Fatalf("S3 store: %v", err)
	}
	return st
}

// StoreVia is StoreConfig reaching the server through endpoint, such as
// a recording or fault-injecting proxy in front of it.
func (s *Server) StoreVia(t testing.TB, endpoint, bucket, prefix string, cfg blob.S3Config) *blob.S3Store {
	t.Helper()
	cfg.Endpoint, cfg.PathStyle, cfg.Region = endpoint, true, s.Region
	cfg.Credentials = s.credentials()
	st, err := blob.NewS3(context.Background(), bucket, prefix, cfg)
	if err != nil {
		t.Fatalf("S3 store: %v", err)
	}
	return st
}

// Env is the environment that points a subprocess (the built binary, run
// with --s3-path-style) at the server through the standard AWS chain.
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s.Region,
		"AWS_ENDPOINT_URL_S3=" + s.Endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
