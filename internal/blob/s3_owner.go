package blob

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ErrBucketOwner is returned (wrapped) when S3 refuses a request made with
// an expected bucket owner. S3 answers 403 AccessDenied both when the
// bucket belongs to another account and when the credentials lack a
// permission, so the message names both.
var ErrBucketOwner = errors.New("access denied: the bucket is not owned by the expected owner, or the credentials lack permission")

func (s *S3Store) ownerErr() error {
	return fmt.Errorf("%w (expected owner %s)", ErrBucketOwner, aws.ToString(s.w.owner))
}

// CheckBucketOwner asks S3 whether the bucket belongs to the expected
// owner, so that a command can stop before it reads or writes anything.
// With no expected owner it does nothing. Every later request carries the
// owner too, so a bucket that changes hands mid-run is refused as well.
//
// It lists one key under the store's prefix rather than calling
// HeadBucket: HeadBucket needs s3:ListBucket without a prefix condition,
// which a least-privilege policy (deploy/aws-batch/iam-policy.json) does
// not grant.
func (s *S3Store) CheckBucketOwner(ctx context.Context) error {
	if s.w.owner == nil {
		return nil
	}
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:              &s.bucket,
		Prefix:              &s.prefix,
		MaxKeys:             aws.Int32(1),
		ExpectedBucketOwner: s.w.owner,
	})
	switch {
	case err == nil:
		return nil
	case httpStatus(err) == http.StatusForbidden:
		return fmt.Errorf("s3://%s: %w", s.bucket, s.ownerErr())
	}
	return fmt.Errorf("s3://%s: check bucket owner: %w", s.bucket, err)
}
