package blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// getTries bounds how often one Get stream is reopened after breaking.
const getTries = 5

// resumingBody is a GET body that survives a connection cut midway: the SDK
// retries requests, not bodies being read, so on a transient read error it
// asks again for the rest (a Range from the offset reached), pinned to the
// ETag first seen so it never splices two versions of the object.
type resumingBody struct {
	ctx   context.Context
	s     *S3Store
	key   string // store key, for messages
	k     string // bucket key
	etag  string
	body  io.ReadCloser
	off   int64
	tries int
}

// Get implements Store.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &k, ExpectedBucketOwner: s.w.owner})
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	return &resumingBody{ctx: ctx, s: s, key: key, k: k, etag: aws.ToString(out.ETag), body: out.Body}, nil
}

func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		n, err := b.body.Read(p)
		b.off += int64(n)
		if err == nil || errors.Is(err, io.EOF) || !IsTransient(err) || b.ctx.Err() != nil {
			return n, err
		}
		if b.tries++; b.tries > getTries || b.etag == "" {
			return n, fmt.Errorf("get %s: read at byte %d: %w", b.key, b.off, err)
		}
		b.body.Close()
		if rerr := b.reopen(); rerr != nil {
			return n, fmt.Errorf("get %s: resume at byte %d after %v: %w", b.key, b.off, err, rerr)
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (b *resumingBody) reopen() error {
	out, err := b.s.client.GetObject(b.ctx, &s3.GetObjectInput{
		Bucket: &b.s.bucket, Key: &b.k, IfMatch: &b.etag,
		Range:               aws.String(fmt.Sprintf("bytes=%d-", b.off)),
		ExpectedBucketOwner: b.s.w.owner,
	})
	if err != nil {
		err = b.s.wrap("get", b.key, err)
		b.body = io.NopCloser(errReader{err})
		return err
	}
	b.body = out.Body
	return nil
}

func (b *resumingBody) Close() error { return b.body.Close() }

// errReader keeps failing after a resume failed, so no caller can take
// the short read for the whole object.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
