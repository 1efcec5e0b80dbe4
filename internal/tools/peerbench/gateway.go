package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// gateway is a versitygw process serving a posix folder on loopback, started
// the way internal/testutil/s3test starts it for the tests (that package
// needs a testing.TB, so it cannot be used from a command).
type gateway struct {
	Endpoint          string
	AccessKey, Secret string
	Region            string
	Dir               string // the posix backend's folder: <Dir>/<bucket>/<key>
	cmd               *exec.Cmd
	exited            chan error
	client            *s3.Client
}

// keepAlive adds versitygw's --keep-alive: without it the server answers
// every request with "Connection: close", so each request of every tool
// pays a TCP connect and close, which Amazon S3 does not impose.
func startGateway(bin, dir, logPath string, keepAlive bool) (*gateway, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	g := &gateway{AccessKey: randomHex(10), Secret: randomHex(20), Region: "us-east-1", Dir: dir}
	var lastErr error
	for range 3 { // another process may take the free port first
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args := []string{"--port", addr, "--region", g.Region,
			"--access", g.AccessKey, "--secret", g.Secret, "--quiet"}
		if keepAlive {
			args = append(args, "--keep-alive")
		}
		g.cmd = exec.Command(bin, append(args, "posix", dir)...)
		g.cmd.Env = filterEnv(os.Environ(), "VGW_", "ROOT_")
		g.cmd.Stdout, g.cmd.Stderr = logf, logf
		if err := g.cmd.Start(); err != nil {
			return nil, fmt.Errorf("start %s: %w", bin, err)
		}
		g.exited = make(chan error, 1)
		go func() { g.exited <- g.cmd.Wait() }()
		g.Endpoint = "http://" + addr
		if lastErr = g.waitReady(); lastErr == nil {
			g.client = s3.New(s3.Options{
				Region:       g.Region,
				BaseEndpoint: aws.String(g.Endpoint),
				UsePathStyle: true,
				Credentials:  credentials.NewStaticCredentialsProvider(g.AccessKey, g.Secret, ""),
			})
			return g, nil
		}
		g.Stop()
	}
	return nil, fmt.Errorf("versitygw: %w (log: %s)", lastErr, logPath)
}

func (g *gateway) PID() int { return g.cmd.Process.Pid }

func (g *gateway) Stop() {
	g.cmd.Process.Kill()
	<-g.exited
}

func (g *gateway) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-g.exited:
			g.exited <- err // Stop waits on it too
			return fmt.Errorf("exited: %v", err)
		default:
		}
		if resp, err := client.Get(g.Endpoint); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("did not answer at %s", g.Endpoint)
}

func (g *gateway) CreateBucket(ctx context.Context, name string) error {
	_, err := g.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name})
	return err
}

// listing sums what a prefix holds.
type listing struct {
	Objects   int
	Bytes     int64
	Manifests int // keys ending /manifest.json: users whose export is complete
}

func (g *gateway) List(ctx context.Context, bucket, prefix string) (listing, error) {
	var l listing
	p := s3.NewListObjectsV2Paginator(g.client, &s3.ListObjectsV2Input{
		Bucket: &bucket, Prefix: aws.String(prefix + "/"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return l, err
		}
		for _, o := range page.Contents {
			l.Objects++
			l.Bytes += aws.ToInt64(o.Size)
			if strings.HasSuffix(aws.ToString(o.Key), "/manifest.json") {
				l.Manifests++
			}
		}
	}
	return l, nil
}

// RemovePrefix deletes what a run wrote straight from the posix folder:
// far faster than deleting object by object, and the gateway keeps no
// other state for finished objects. Runs leave nothing in progress.
func (g *gateway) RemovePrefix(bucket, prefix string) error {
	if bucket == "" || prefix == "" || strings.Contains(prefix, "..") {
		return errors.New("refusing to remove an empty or relative prefix")
	}
	return os.RemoveAll(filepath.Join(g.Dir, bucket, prefix))
}

// Env is the standard AWS environment for a client of the gateway, with
// the shared config files pointed away so a developer's ~/.aws cannot
// change what is measured.
func (g *gateway) Env(work string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + g.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + g.Secret,
		"AWS_REGION=" + g.Region,
		"AWS_DEFAULT_REGION=" + g.Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(work, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(work, "no-aws-credentials"),
		"AWS_PAGER=",
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// filterEnv drops variables with any of the prefixes.
func filterEnv(env []string, prefixes ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
