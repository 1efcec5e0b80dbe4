package blob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Store keeps objects in one bucket under a key prefix. Uploads are
// multipart uploads whose parts go up in parallel (see Put); reads are
// plain or ranged GETs.
type S3Store struct {
	client      *s3.Client
	bucket      string
	prefix      string // "" or ends with "/"
	budget      *Budget
	concurrency int
	w           writeOptions
}

var _ Store = (*S3Store)(nil)

const (
	defaultMaxConns    = 64
	defaultConcurrency = 4
	defaultBudget      = 64 << 20
)

// NewS3 returns a store for bucket/prefix. Credentials, region and endpoint
// come from the standard AWS configuration chain, overridden by cfg.
func NewS3(ctx context.Context, bucket, prefix string, cfg S3Config) (*S3Store, error) {
	if bucket == "" {
		return nil, errors.New("s3: empty bucket name")
	}
	if err := checkWriteOptions(cfg); err != nil {
		return nil, fmt.Errorf("s3://%s: %w", bucket, err)
	}
	awsCfg, err := loadAWSConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("s3://%s: load AWS configuration: %w", bucket, err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(endpointURL(cfg.Endpoint))
		}
		if cfg.PathStyle {
			o.UsePathStyle = true
		}
		// With response validation left to when S3 requires it, the SDK
		// would otherwise log a line for every GET of an object stored
		// without a checksum.
		o.DisableLogOutputChecksumValidationSkipped = true
		if cfg.OnRequest != nil {
			o.APIOptions = append(o.APIOptions, observeAttempts(cfg.OnRequest))
		}
	})
	budget := cfg.Budget
	if budget == nil {
		budget = NewBudget(defaultBudget)
	}
	return &S3Store{
		client:      client,
		bucket:      bucket,
		prefix:      cleanPrefix(prefix),
		budget:      budget,
		concurrency: cmp.Or(max(cfg.Concurrency, 0), defaultConcurrency),
		w:           newWriteOptions(cfg),
	}, nil
}

func loadAWSConfig(ctx context.Context, cfg S3Config) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(newHTTPClient(cmp.Or(max(cfg.MaxConns, 0), defaultMaxConns))),
		config.WithRetryer(newRetryer),
	}
	if cfg.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(cfg.Credentials))
	}
	// The SDK's default CRC32 on every request body costs a pass over the
	// bytes that the export does not need: every part already carries a
	// SHA-256 in manifest.json and verify checks it. Keep checksums to
	// where S3 requires them, unless the environment asks otherwise.
	// (LoadDefaultConfig fills these in itself, so they must be given as
	// load options, not patched afterwards.)
	if os.Getenv("AWS_REQUEST_CHECKSUM_CALCULATION") == "" {
		opts = append(opts, config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired))
	}
	if os.Getenv("AWS_RESPONSE_CHECKSUM_VALIDATION") == "" {
		opts = append(opts, config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, err
	}
	if awsCfg.Region == "" {
		awsCfg.Region = cmp.Or(cfg.Region, "us-east-1")
	}
	return awsCfg, nil
}

// newHTTPClient keeps up to maxConns idle keep-alive connections per host so
// parallel workers reuse them. It sets no hard cap on open connections: a
// cap could deadlock when open read streams hold every connection while
// the uploads that would let their readers move on wait for one.
func newHTTPClient(maxConns int) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = max(t.MaxIdleConns, maxConns)
		t.MaxIdleConnsPerHost = maxConns
		t.MaxConnsPerHost = 0
		t.DisableKeepAlives = false
	})
}

// newRetryer retries more patiently than the SDK default (3 attempts): an
// export runs for hours and should ride out throttling and brief outages.
//
// Adaptive mode adds a client-side send-rate limiter that backs off when S3
// answers SlowDown; every worker shares the one client, so throttling seen
// by one slows all of them. The standard retry quota (a token bucket that
// refuses retries after a burst of errors) is turned off: over a days-long
// run a burst of 503s would otherwise turn into failed users instead of
// slower ones.
func newRetryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = 10
			so.MaxBackoff = 20 * time.Second
			so.RateLimiter = ratelimit.None
			so.Retryables = append(so.Retryables, retryCutResponses)
		})
	})
}

// retryCutResponses retries a request whose answer was cut short (a
// connection reset while the SDK read an XML body, such as a listing page);
// the SDK's defaults treat that as final.
var retryCutResponses = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
})

// endpointURL accepts a bare host:port as well as a URL.
func endpointURL(e string) string {
	if strings.Contains(e, "://") {
		return e
	}
	return "https://" + e
}

func cleanPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p != "" {
		p += "/"
	}
	return p
}

// Bucket is the store's bucket.
func (s *S3Store) Bucket() string { return s.bucket }

// Prefix is the key prefix every store key is joined onto: "" or ending
// with "/".
func (s *S3Store) Prefix() string { return s.prefix }

func (s *S3Store) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// objectKey is the bucket key of a store key.
func (s *S3Store) objectKey(key string) (string, error) {
	if key == "" {
		return "", errors.New("empty key")
	}
	return s.prefix + key, nil
}

// Stat implements Store.
func (s *S3Store) Stat(ctx context.Context, key string) (Info, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &k, ExpectedBucketOwner: s.w.owner})
	if err != nil {
		return Info{}, s.wrap("stat", key, err)
	}
	return Info{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		ETag:    aws.ToString(out.ETag),
		ModTime: aws.ToTime(out.LastModified),
	}, nil
}

// List implements Store. S3 lists keys in UTF-8 byte order, which is Go's
// string order.
func (s *S3Store) List(ctx context.Context, prefix string, fn func(Info) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket:              &s.bucket,
		Prefix:              aws.String(s.prefix + prefix),
		ExpectedBucketOwner: s.w.owner,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.wrap("list", prefix, err)
		}
		for _, o := range page.Contents {
			err := fn(Info{
				Key:     strings.TrimPrefix(aws.ToString(o.Key), s.prefix),
				Size:    aws.ToInt64(o.Size),
				ETag:    aws.ToString(o.ETag),
				ModTime: aws.ToTime(o.LastModified),
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete implements Store.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &k, ExpectedBucketOwner: s.w.owner})
	if err != nil && !isNotFound(err) {
		return s.wrap("delete", key, err)
	}
	return nil
}

// wrap names the operation and object, and maps S3's answers onto the
// errors callers branch on.
func (s *S3Store) wrap(op, key string, err error) error {
	switch {
	case isNotFound(err):
		return fmt.Errorf("%s %s%s: %w: %w", op, s, key, ErrNotExist, err)
	case isPrecondition(err):
		return fmt.Errorf("%s %s%s: %w: %w", op, s, key, ErrPrecondition, err)
	case s.w.owner != nil && httpStatus(err) == http.StatusForbidden:
		return fmt.Errorf("%s %s%s: %w: %w", op, s, key, s.ownerErr(), err)
	}
	return fmt.Errorf("%s %s%s: %w", op, s, key, err)
}

// isNotFound reports a missing object. HEAD answers carry no body, so a
// bare 404 counts too; a missing bucket or upload does not, so that
// mistake shows.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket", "NoSuchUpload":
			return false
		}
	}
	return httpStatus(err) == http.StatusNotFound
}

// isPrecondition reports a conditional write that lost: 412, or 409 when
// S3 saw a concurrent conditional write to the same key.
func isPrecondition(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			return true
		}
	}
	return httpStatus(err) == http.StatusPreconditionFailed
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
