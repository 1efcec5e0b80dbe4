// Package blob is the storage plumbing shared by export and sunset: one small
// Store interface in our own terms (Get, Put, Stat, List, Delete) with two
// backends, a local folder (the embedded default, no server, no credentials)
// and Amazon S3 (or any S3-compatible server).
//
// Backends are safe for concurrent use. The S3 backend streams uploads as
// multipart uploads whose parts go up in parallel; every part buffer is taken
// from one Budget shared by all uploads of a process, so the bytes in flight
// stay bounded however many workers run.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotExist is returned (wrapped) when an object does not exist.
var ErrNotExist = errors.New("object does not exist")

// ErrPrecondition is returned (wrapped) when a conditional write loses: the
// object already exists (IfNoneMatch) or changed since it was read (IfMatch).
var ErrPrecondition = errors.New("precondition failed")

// Info describes one stored object. Keys always use forward slashes and are
// relative to the store's root.
type Info struct {
	Key     string
	Size    int64
	ETag    string // opaque version tag: S3 ETag, or size+mtime for files
	ModTime time.Time
	// SHA256 is the hex SHA-256 of the content where a write computed it
	// (PatchWriter.Commit), else empty.
	SHA256 string
}

// PutOptions tune one Put. The zero value is an unconditional write of a
// stream of unknown size.
type PutOptions struct {
	// SizeHint is the expected size in bytes, or 0 when unknown. The S3
	// backend uses it to pick a part size that keeps the upload under
	// 10,000 parts; a wrong hint costs efficiency, never correctness.
	SizeHint int64
	// IfNoneMatch makes the write fail with ErrPrecondition if the key
	// already exists.
	IfNoneMatch bool
	// IfMatch, when set, makes the write fail with ErrPrecondition unless
	// the current object's ETag equals it.
	IfMatch string
	// ContentType is stored as the object's media type where supported.
	ContentType string
	// Archival marks an object users download (an export's parts and
	// manifest): it gets the store's storage class and object tags,
	// which lifecycle rules match on. Small state that is rewritten
	// (claims, reports) is written without them.
	Archival bool
	// Progress, when set, is called with the number of bytes as they are
	// stored.
	Progress func(n int64)
}

// ReaderAt gives random access to one object, for readers such as
// archive/zip that need the end of a file first.
type ReaderAt interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Store is what export and sunset need of a storage backend.
type Store interface {
	// Get opens an object for a sequential read.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Open opens an object for random access.
	Open(ctx context.Context, key string) (ReaderAt, error)
	// Stat describes an object without reading it.
	Stat(ctx context.Context, key string) (Info, error)
	// List calls fn for every object whose key starts with prefix, in
	// lexical key order. An error from fn stops the listing and is returned.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Put stores the whole of r under key. A failed Put leaves no partial
	// object visible under key.
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Info, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store for messages, without credentials.
	String() string
}
