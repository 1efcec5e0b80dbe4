package blob

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// A process killed mid-upload leaves its multipart upload behind, and S3
// bills for the stored parts until someone aborts it (or a lifecycle rule
// does). These helpers find and abort such uploads.

// ListIncompleteUploads returns the keys, relative to the store, of the
// multipart uploads in progress under prefix.
func (s *S3Store) ListIncompleteUploads(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := s.eachUpload(ctx, prefix, func(u types.MultipartUpload) error {
		keys = append(keys, strings.TrimPrefix(aws.ToString(u.Key), s.prefix))
		return nil
	})
	return keys, err
}

// AbortIncompleteUploads aborts every multipart upload in progress under
// prefix, including those of other running processes, and returns how many
// it aborted.
func (s *S3Store) AbortIncompleteUploads(ctx context.Context, prefix string) (int, error) {
	n := 0
	err := s.eachUpload(ctx, prefix, func(u types.MultipartUpload) error {
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket:              &s.bucket,
			Key:                 u.Key,
			UploadId:            u.UploadId,
			ExpectedBucketOwner: s.w.owner,
		})
		if err != nil {
			return fmt.Errorf("abort upload %s of %s: %w", aws.ToString(u.UploadId), aws.ToString(u.Key), err)
		}
		n++
		return nil
	})
	return n, err
}

func (s *S3Store) eachUpload(ctx context.Context, prefix string, fn func(types.MultipartUpload) error) error {
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{
		Bucket:              &s.bucket,
		Prefix:              aws.String(s.prefix + prefix),
		ExpectedBucketOwner: s.w.owner,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.wrap("list uploads", prefix, err)
		}
		for _, u := range page.Uploads {
			if err := fn(u); err != nil {
				return err
			}
		}
	}
	return nil
}
