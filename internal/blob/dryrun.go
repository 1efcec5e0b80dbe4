package blob

import (
	"context"
	"io"
)

// DryRun wraps a store so that reads go through and writes do not: Put
// drains its reader (so the work upstream really happens and is measured)
// and stores nothing; Delete does nothing.
type DryRun struct {
	Store
}

var _ Store = DryRun{}

// Put implements Store without storing anything.
func (d DryRun) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	n, err := io.Copy(io.Discard, r)
	if opts.Progress != nil {
		opts.Progress(n)
	}
	return Info{Key: key, Size: n}, err
}

// Unwrap implements Wrapper: capabilities that only read (Presigner) are
// the wrapped store's.
func (d DryRun) Unwrap() Store { return d.Store }

// AbortIncompleteUploads implements UploadAborter by aborting nothing: a
// dry run must not touch uploads another process may own.
func (d DryRun) AbortIncompleteUploads(ctx context.Context, prefix string) (int, error) {
	return 0, nil
}

// Delete implements Store without deleting anything.
func (d DryRun) Delete(ctx context.Context, key string) error { return nil }

func (d DryRun) String() string { return d.Store.String() + " (dry run)" }
