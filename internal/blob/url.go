package blob

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// S3Config holds what the S3 backend needs beyond the standard AWS
// configuration chain (environment, shared profile, ECS/Batch task role,
// IMDS), which it always consults.
type S3Config struct {
	// Endpoint overrides the S3 endpoint (S3-compatible servers). When
	// empty, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL apply as usual.
	Endpoint string
	// PathStyle addresses buckets as https://host/bucket/key.
	PathStyle bool
	// Region is used when the chain provides none (default us-east-1).
	Region string
	// Budget bounds upload buffers; nil means a private 64 MiB budget.
	Budget *Budget
	// Concurrency is the number of parts of one upload sent in parallel
	// (default 4).
	Concurrency int
	// MaxConns sizes the HTTP connection pool per host (default 64). Keep
	// it at least as large as the number of workers.
	MaxConns int
	// Credentials, when set, replace the chain's credentials. Tests use it
	// to give static keys without touching the process environment.
	Credentials aws.CredentialsProvider

	// ExpectedBucketOwner, when set, goes with every request to the
	// bucket (x-amz-expected-bucket-owner): S3 refuses every request,
	// reads and writes alike, if the bucket belongs to another account.
	ExpectedBucketOwner string
	// Encryption is the server-side encryption of every object written.
	Encryption Encryption
	// StorageClass and Tags apply to the writes PutOptions.Archival marks
	// (the parts and manifests of users' exports).
	StorageClass string
	Tags         []Tag
	// OnRequest, when set, is called after every HTTP attempt (retries
	// included) with the S3 operation and the response status (0 when no
	// response came). Metrics use it; it must be fast and safe for
	// concurrent use.
	OnRequest func(op string, status int)
}

// Open returns the store named by raw: a local path, a file:// URL or an
// s3://bucket/prefix URL. Local folders are created on first write.
func Open(ctx context.Context, raw string, cfg S3Config) (Store, error) {
	switch {
	case raw == "":
		return nil, fmt.Errorf("empty store location: give a folder, file:///path or s3://bucket/prefix")
	case strings.HasPrefix(raw, "s3://"):
		bucket, prefix, err := ParseS3URL(raw)
		if err != nil {
			return nil, err
		}
		return NewS3(ctx, bucket, prefix, cfg)
	default:
		dir, err := localPath(raw)
		if err != nil {
			return nil, err
		}
		return NewFile(dir)
	}
}

// localPath is the folder a local path or file:// URL names.
func localPath(raw string) (string, error) {
	switch {
	case strings.HasPrefix(raw, "file://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("parse %q: %w", raw, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("%q: file URLs name a local path (file:///path), not host %q", raw, u.Host)
		}
		return u.Path, nil
	case strings.Contains(raw, "://"):
		return "", fmt.Errorf("%q: unsupported scheme; use a local path, file:///path or s3://bucket/prefix", raw)
	default:
		return filepath.Clean(raw), nil
	}
}

// ParseS3URL splits s3://bucket/prefix into its bucket and prefix. The
// prefix has no leading slash and, when not empty, ends with one.
func ParseS3URL(raw string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(raw, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q: not an s3:// URL", raw)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: missing bucket name (s3://bucket/prefix)", raw)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return bucket, prefix, nil
}
