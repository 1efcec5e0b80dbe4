package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// gateway is a versitygw process serving a posix folder on loopback,
// started by s3test.Launch as the tests start theirs.
type gateway struct {
	*s3test.Gateway
	Dir    string // the posix backend's folder: <Dir>/<bucket>/<key>
	client *s3.Client
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
	var extra []string
	if keepAlive {
		extra = append(extra, "--keep-alive")
	}
	gw, err := s3test.Launch(bin, dir, logf, extra...)
	if err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	return &gateway{Gateway: gw, Dir: dir, client: s3.New(s3.Options{
		Region:       gw.Region,
		BaseEndpoint: aws.String(gw.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(gw.AccessKey, gw.SecretKey, ""),
	})}, nil
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
		"AWS_SECRET_ACCESS_KEY=" + g.SecretKey,
		"AWS_REGION=" + g.Region,
		"AWS_DEFAULT_REGION=" + g.Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(work, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(work, "no-aws-credentials"),
		"AWS_PAGER=",
	}
}
