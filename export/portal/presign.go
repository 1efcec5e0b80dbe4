package portal

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// Presigner makes time-limited GET URLs for objects of the export
// destination, so downloads go straight to the object store.
type Presigner interface {
	// PresignGet returns a URL that downloads key for ttl, saved as
	// filename.
	PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error)
}

// S3Presigner presigns GETs with an S3 store's own client, so the URLs
// point at the same endpoint, bucket and prefix the store uses.
type S3Presigner struct {
	store  *blob.S3Store
	client *s3.PresignClient
}

var _ Presigner = (*S3Presigner)(nil)

// NewS3Presigner returns a presigner for objects of s.
func NewS3Presigner(s *blob.S3Store) *S3Presigner {
	return &S3Presigner{store: s, client: s3.NewPresignClient(s.Client())}
}

// PresignerFor returns a presigner when dst is an S3 store, else nil.
func PresignerFor(dst blob.Store) Presigner {
	if s, ok := dst.(*blob.S3Store); ok {
		return NewS3Presigner(s)
	}
	return nil
}

// PresignGet implements Presigner. The URL also asks S3 to answer with
// Content-Disposition: attachment, so browsers save the part under its
// own name. URLs signed with temporary credentials (a task role) stop
// working when those credentials expire, whatever ttl says.
func (p *S3Presigner) PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	bucket, objKey := p.store.Bucket(), p.store.Prefix()+key
	disposition := `attachment; filename="` + filename + `"`
	req, err := p.client.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     &bucket,
		Key:                        &objKey,
		ResponseContentDisposition: &disposition,
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", err
	}
	return req.URL, nil
}
