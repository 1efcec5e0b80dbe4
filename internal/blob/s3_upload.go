package blob

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// abortTimeout bounds the clean-up of a failed upload, which runs on a
// fresh context so it happens even after the caller's was cancelled.
const abortTimeout = 30 * time.Second

// Put implements Store. It reads the first part into a buffer from the
// budget; a stream that ends there goes up as one PutObject. A longer one
// becomes a multipart upload whose parts are sent in parallel, each from
// its own budget buffer, and which is aborted if anything fails, so no
// object and no stray parts remain.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Info, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return Info{}, err
	}
	u := &upload{s: s, key: key, objKey: k, opts: opts, first: firstPartSize(opts.SizeHint)}
	// Most objects of an export run are small (manifests, claims, reports,
	// small users' zips): read a small head first, and send it as one PUT
	// without touching the budget when the stream ends there.
	headp := smallBufs.Get().(*[]byte)
	defer smallBufs.Put(headp)
	n, err := io.ReadFull(r, *headp)
	head := (*headp)[:n]
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return u.putObject(ctx, head)
	case err != nil:
		return Info{}, u.errorf("read: %w", err)
	}
	buf, last, err := u.readPart(ctx, io.MultiReader(bytes.NewReader(head), r), 1)
	if err != nil {
		return Info{}, err
	}
	if last {
		defer s.budget.Release(buf)
		return u.putObject(ctx, buf)
	}
	return u.run(ctx, buf, r)
}

// unsignedPayload signs uploads without hashing their bodies (the
// UNSIGNED-PAYLOAD of SigV4, as rclone sends). Over HTTPS, TLS protects the
// bytes; over plain HTTP the SDK would otherwise spend a SHA-256 pass on
// every byte just to sign it. Integrity end to end is manifest.json's
// SHA-256 of every part, which verify checks.
var unsignedPayload = s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

// smallSize is the head read before a Put commits to a part buffer.
const smallSize = 256 << 10

var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallSize); return &b }}

// upload is one Put in progress.
type upload struct {
	s      *S3Store
	key    string // store key, for messages
	objKey string // bucket key
	opts   PutOptions
	first  int64 // size of the first part
	id     *string
	sums   partSums // the parts' CRC-32C, for the full-object checksum

	mu    sync.Mutex // guards parts, size and calls to opts.Progress
	parts []types.CompletedPart
	size  int64
}

// readPart fills a budget buffer with part n. last reports that r ended;
// then buf holds what was left, or is nil if nothing was.
func (u *upload) readPart(ctx context.Context, r io.Reader, n int) (buf []byte, last bool, err error) {
	buf, err = u.s.budget.Acquire(ctx, int(partSize(u.first, n)))
	if err != nil {
		return nil, false, u.errorf("part %d: %w", n, err)
	}
	m, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF && n > 1:
		u.s.budget.Release(buf)
		return nil, true, nil
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		buf, err = buf[:m], nil
		last = true
	case err != nil:
		u.s.budget.Release(buf)
		return nil, false, u.errorf("part %d: read: %w", n, err)
	}
	if n > maxParts {
		u.s.budget.Release(buf)
		return nil, false, u.errorf("part %d: more than S3's %d parts; give a SizeHint", n, maxParts)
	}
	return buf, last, nil
}

func (u *upload) errorf(format string, args ...any) error {
	return fmt.Errorf("put %s%s: %w", u.s, u.key, fmt.Errorf(format, args...))
}

// putObject stores a whole object that fits in one part.
func (u *upload) putObject(ctx context.Context, b []byte) (Info, error) {
	in := &s3.PutObjectInput{
		Bucket:        &u.s.bucket,
		Key:           &u.objKey,
		Body:          bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))),
		ContentType:   nilIfEmpty(u.opts.ContentType),
		IfMatch:       nilIfEmpty(u.opts.IfMatch),
	}
	if u.opts.IfNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	u.s.w.putObject(in, u.opts)
	in.ChecksumCRC32C = crc32cOf(b)
	callOpts := []func(*s3.Options){unsignedPayload, resendCorrupted}
	var attempts int
	conditional := in.IfNoneMatch != nil || in.IfMatch != nil
	if conditional {
		callOpts = append(callOpts, s3.WithAPIOptions(countAttempts(&attempts)))
	}
	out, err := u.s.client.PutObject(ctx, in, callOpts...)
	if err != nil {
		err = u.condErr(err)
		// The SDK retries a request whose answer was lost, and S3 may have
		// stored the first try: the retry then fails its own condition
		// (the key exists now, or has a new ETag). If what is stored is
		// these very bytes, the write succeeded.
		if conditional && attempts > 1 && errors.Is(err, ErrPrecondition) {
			if etag, ok := u.stored(ctx, b); ok {
				err, out = nil, &s3.PutObjectOutput{ETag: &etag}
			}
		}
		if err != nil {
			return Info{}, err
		}
	}
	u.progress(int64(len(b)))
	return Info{Key: u.key, Size: int64(len(b)), ETag: aws.ToString(out.ETag), ModTime: time.Now()}, nil
}

// stored reports whether the object holds exactly b, and its ETag.
func (u *upload) stored(ctx context.Context, b []byte) (string, bool) {
	out, err := u.s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &u.s.bucket, Key: &u.objKey, ExpectedBucketOwner: u.s.w.owner})
	if err != nil {
		return "", false
	}
	defer out.Body.Close()
	got, err := io.ReadAll(io.LimitReader(out.Body, int64(len(b))+1))
	return aws.ToString(out.ETag), err == nil && bytes.Equal(got, b)
}

// condErr maps a failed conditional write onto ErrPrecondition. S3 answers
// IfMatch on a missing object with 404: it changed since it was read too.
func (u *upload) condErr(err error) error {
	if u.opts.IfMatch != "" && isNotFound(err) {
		return fmt.Errorf("put %s%s: %w: %w", u.s, u.key, ErrPrecondition, err)
	}
	return u.s.wrap("put", u.key, err)
}

func (u *upload) progress(n int64) {
	if u.opts.Progress != nil && n > 0 {
		u.opts.Progress(n)
	}
}

// run sends a multipart upload whose first part is in buf.
func (u *upload) run(ctx context.Context, buf []byte, r io.Reader) (Info, error) {
	if err := u.create(ctx); err != nil {
		u.s.budget.Release(buf)
		return Info{}, err
	}
	info, err := u.sendParts(ctx, buf, r)
	if err == nil {
		info, err = u.complete(ctx)
	}
	if err != nil {
		if abortErr := u.abort(ctx); abortErr != nil {
			err = fmt.Errorf("%w (and abort upload %s: %v)", err, aws.ToString(u.id), abortErr)
		}
		return Info{}, err
	}
	return info, nil
}

// create starts the multipart upload.
func (u *upload) create(ctx context.Context) error {
	in := &s3.CreateMultipartUploadInput{
		Bucket:      &u.s.bucket,
		Key:         &u.objKey,
		ContentType: nilIfEmpty(u.opts.ContentType),
		// S3 checks the whole object's CRC-32C, combined from the parts'
		// (s3_checksum.go), when the upload completes.
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		ChecksumType:      types.ChecksumTypeFullObject,
	}
	u.s.w.createMultipart(in, u.opts)
	var attempts int
	out, err := u.s.client.CreateMultipartUpload(ctx, in, s3.WithAPIOptions(countAttempts(&attempts)))
	if err == nil {
		u.id = out.UploadId
	}
	if attempts > 1 {
		u.abortStrays(ctx)
	}
	if err != nil {
		return u.s.wrap("put", u.key, err)
	}
	return nil
}

// abortStrays aborts the uploads of this key other than ours. A retried
// create may have started uploads whose answers were lost, which nobody
// would ever complete or abort. Writers of one key are alone (the export
// holds the user's claim); if another were not, its upload would fail and
// be retried, and nothing stored is lost. Best effort: a lifecycle rule
// aborts what is left.
func (u *upload) abortStrays(ctx context.Context) {
	u.s.eachUpload(ctx, u.key, func(m types.MultipartUpload) error {
		if aws.ToString(m.Key) != u.objKey || (u.id != nil && aws.ToString(m.UploadId) == *u.id) {
			return nil
		}
		u.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &u.s.bucket, Key: m.Key, UploadId: m.UploadId, ExpectedBucketOwner: u.s.w.owner,
		})
		return nil
	})
}

// sendParts uploads part 1 from buf and the rest of r, up to
// s.concurrency parts at a time. Each buffer goes back to the budget as
// soon as its part is stored.
func (u *upload) sendParts(ctx context.Context, buf []byte, r io.Reader) (Info, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(u.s.concurrency)
	var readErr error
	last := false
	for n := 1; buf != nil; n++ {
		part := buf
		g.Go(func() error {
			defer u.s.budget.Release(part)
			return u.sendPart(gctx, n, part)
		})
		if last {
			break
		}
		buf, last, readErr = u.readPart(gctx, r, n+1)
	}
	// A failed part cancels gctx, which then shows up as readErr too: the
	// part's error is the cause.
	if err := g.Wait(); err != nil {
		return Info{}, err
	}
	return Info{}, readErr
}

func (u *upload) sendPart(ctx context.Context, n int, b []byte) error {
	sum := u.sums.add(int32(n), b)
	out, err := u.s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:        &u.s.bucket,
		Key:           &u.objKey,
		UploadId:      u.id,
		PartNumber:    aws.Int32(int32(n)),
		Body:          bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))),

		ChecksumCRC32C:      sum,
		ExpectedBucketOwner: u.s.w.owner,
	}, unsignedPayload, resendCorrupted)
	if err != nil {
		return u.errorf("upload part %d: %w", n, err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.parts = append(u.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(n)), ChecksumCRC32C: sum})
	u.size += int64(len(b))
	u.progress(int64(len(b)))
	return nil
}

func (u *upload) complete(ctx context.Context) (Info, error) {
	slices.SortFunc(u.parts, func(a, b types.CompletedPart) int {
		return cmp.Compare(aws.ToInt32(a.PartNumber), aws.ToInt32(b.PartNumber))
	})
	in := &s3.CompleteMultipartUploadInput{
		Bucket:          &u.s.bucket,
		Key:             &u.objKey,
		UploadId:        u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
		IfMatch:         nilIfEmpty(u.opts.IfMatch),

		ChecksumCRC32C:      u.sums.whole(),
		ChecksumType:        types.ChecksumTypeFullObject,
		ExpectedBucketOwner: u.s.w.owner,
	}
	if u.opts.IfNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	out, err := u.s.client.CompleteMultipartUpload(ctx, in)
	if err != nil {
		return Info{}, u.condErr(err)
	}
	return Info{Key: u.key, Size: u.size, ETag: aws.ToString(out.ETag), ModTime: time.Now()}, nil
}

// abort aborts the upload and checks that it is gone. A part whose
// request was cancelled on our side may still be landing on the server,
// and land after the abort: S3's documentation of AbortMultipartUpload says
// to abort again until ListParts finds no upload, so this does, a few
// times, with a short pause.
func (u *upload) abort(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	var nsu *types.NoSuchUpload
	for attempt := 0; ; attempt++ {
		_, err := u.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket:   &u.s.bucket,
			Key:      &u.objKey,
			UploadId: u.id,

			ExpectedBucketOwner: u.s.w.owner,
		})
		if err != nil && !errors.As(err, &nsu) {
			return err
		}
		_, err = u.s.client.ListParts(ctx, &s3.ListPartsInput{
			Bucket:   &u.s.bucket,
			Key:      &u.objKey,
			UploadId: u.id,

			ExpectedBucketOwner: u.s.w.owner,
		})
		if err != nil && (errors.As(err, &nsu) || isNotFound(err)) {
			return nil // gone
		}
		if attempt == abortChecks-1 {
			return fmt.Errorf("upload %s still listed after %d aborts", aws.ToString(u.id), abortChecks)
		}
		select {
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// abortChecks bounds how often abort aborts and checks an upload.
const abortChecks = 4
