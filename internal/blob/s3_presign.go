package blob

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PresignGet implements Presigner with the store's own client, so the URL
// points at the endpoint, bucket and prefix the store uses. It also asks
// S3 to answer with Content-Disposition: attachment, so browsers save the
// object under filename. A URL signed with temporary credentials (a task
// role) stops working when those credentials expire, whatever ttl says.
func (s *S3Store) PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	objKey, err := s.objectKey(key)
	if err != nil {
		return "", err
	}
	disposition := `attachment; filename="` + filename + `"`
	req, err := s3.NewPresignClient(s.client).PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     &s.bucket,
		Key:                        &objKey,
		ResponseContentDisposition: &disposition,
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", s.wrap("presign", key, err)
	}
	return req.URL, nil
}
