package blob

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	// tailSize is how much of an object's end is cached: zip readers look
	// for the end of central directory there, then come back for it.
	tailSize = 64 << 10
	// skipLimit is how far ahead of the open stream a read may start and
	// still be served by reading on; beyond it a new GET is cheaper.
	skipLimit = 256 << 10
	// streamTries bounds reopening a stream that broke mid-read.
	streamTries = 3
)

// Open implements Store. The reader is built for mostly sequential ReadAt
// calls, as archive/zip makes when it reads entries in order: it keeps one
// ranged GET open from the last read position to the end of the object and
// serves the next read from it when it starts there or a little ahead. Every
// GET is conditional on the ETag seen at Open, so a replaced object fails
// the read instead of mixing versions. ReadAt uses ctx and must be called
// from one goroutine at a time.
func (s *S3Store) Open(ctx context.Context, key string) (ReaderAt, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	k, _ := s.objectKey(key)
	return &s3ReaderAt{ctx: ctx, s: s, key: k, size: info.Size, etag: info.ETag}, nil
}

type s3ReaderAt struct {
	ctx  context.Context
	s    *S3Store
	key  string
	size int64
	etag string

	tail []byte // the object's last bytes, loaded on first use

	body io.ReadCloser // open stream, or nil
	pos  int64         // offset of body's next byte
}

func (r *s3ReaderAt) Size() int64 { return r.size }

func (r *s3ReaderAt) name() string { return "s3://" + r.s.bucket + "/" + r.key }

func (r *s3ReaderAt) tailStart() int64 { return max(r.size-tailSize, 0) }

// ReadAt implements io.ReaderAt.
func (r *s3ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", r.name(), off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := len(p)
	p = p[:min(int64(want), r.size-off)]
	n := 0
	if head := min(int64(len(p)), r.tailStart()-off); head > 0 {
		if err := r.readStream(p[:head], off); err != nil {
			return 0, err
		}
		n = int(head)
	}
	if n < len(p) {
		if err := r.loadTail(); err != nil {
			return n, err
		}
		n += copy(p[n:], r.tail[off+int64(n)-r.tailStart():])
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// readStream fills p from offset off through the open stream, reopening it
// when off is behind or far ahead, or when it broke mid-read (the SDK
// retries requests, not bodies being read).
func (r *s3ReaderAt) readStream(p []byte, off int64) error {
	var err error
	for try := 0; try < streamTries; try++ {
		if err := r.seek(off); err != nil {
			return err
		}
		var n int
		n, err = io.ReadFull(r.body, p)
		r.pos += int64(n)
		if err == nil {
			return nil
		}
		p, off = p[n:], off+int64(n)
		r.closeBody()
		if ctxErr := r.ctx.Err(); ctxErr != nil {
			return fmt.Errorf("read %s: %w", r.name(), ctxErr)
		}
	}
	return fmt.Errorf("read %s at %d: %w", r.name(), off, err)
}

// seek leaves the stream positioned at off.
func (r *s3ReaderAt) seek(off int64) error {
	if r.body != nil && off >= r.pos && off-r.pos < skipLimit {
		n, err := io.CopyN(io.Discard, r.body, off-r.pos)
		r.pos += n
		if err == nil {
			return nil
		}
	}
	r.closeBody()
	// The stream stops where the cached tail starts, so a reader that gets
	// there finds the body drained and the connection goes back to the pool.
	body, err := r.get(off, r.tailStart()-1)
	if err != nil {
		return err
	}
	r.body, r.pos = body, off
	return nil
}

func (r *s3ReaderAt) loadTail() error {
	if r.tail != nil {
		return nil
	}
	body, err := r.get(r.tailStart(), r.size-1)
	if err != nil {
		return err
	}
	defer body.Close()
	tail := make([]byte, r.size-r.tailStart())
	if _, err := io.ReadFull(body, tail); err != nil {
		return fmt.Errorf("read %s: end of object: %w", r.name(), err)
	}
	r.tail = tail
	return nil
}

// get opens bytes [from, to] of the object version seen at Open.
func (r *s3ReaderAt) get(from, to int64) (io.ReadCloser, error) {
	out, err := r.s.client.GetObject(r.ctx, &s3.GetObjectInput{
		Bucket:  &r.s.bucket,
		Key:     &r.key,
		Range:   aws.String(fmt.Sprintf("bytes=%d-%d", from, to)),
		IfMatch: nilIfEmpty(r.etag),

		ExpectedBucketOwner: r.s.w.owner,
	})
	if err != nil {
		return nil, r.s.wrap("read", r.key[len(r.s.prefix):], err)
	}
	return out.Body, nil
}

func (r *s3ReaderAt) closeBody() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// Close implements io.Closer.
func (r *s3ReaderAt) Close() error {
	r.closeBody()
	return nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
