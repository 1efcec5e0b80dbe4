package blob

import (
	"context"
	"time"
)

// Optional capabilities. A store implements the ones its backend can offer;
// callers find them with As, never by asserting a concrete store type, so
// wrappers (DryRun, test fault injectors) stay transparent where they
// should be and opaque where they must be.

// Presigner is a store whose objects can be downloaded directly, without
// credentials, through a time-limited URL (S3's presigned GET).
type Presigner interface {
	// PresignGet returns a URL that downloads key for ttl; the download is
	// saved as filename.
	PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error)
}

// UploadAborter is a store that can hold uploads started and never
// finished (S3 multipart uploads, billed until aborted), and can abort them.
type UploadAborter interface {
	// AbortIncompleteUploads aborts every upload in progress under prefix,
	// other processes' included, and returns how many it aborted.
	AbortIncompleteUploads(ctx context.Context, prefix string) (int, error)
}

// IncompleteLister is a store that can list uploads started and never
// finished.
type IncompleteLister interface {
	// ListIncompleteUploads returns the store keys of the uploads in
	// progress under prefix.
	ListIncompleteUploads(ctx context.Context, prefix string) ([]string, error)
}

// Wrapper is a store that wraps another (DryRun): As looks through it for
// capabilities the wrapper does not implement itself.
type Wrapper interface {
	Unwrap() Store
}

// As returns s as a T, looking through wrappers the way errors.As looks
// through wrapped errors: the outermost store that implements T wins, so a
// wrapper can override (or neutralise) a capability of what it wraps.
func As[T any](s Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	var zero T
	return zero, false
}

var (
	_ Presigner        = (*S3Store)(nil)
	_ UploadAborter    = (*S3Store)(nil)
	_ IncompleteLister = (*S3Store)(nil)
	_ Wrapper          = DryRun{}
	_ UploadAborter    = DryRun{}
)
