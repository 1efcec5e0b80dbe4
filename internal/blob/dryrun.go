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

// Delete implements Store without deleting anything.
func (d DryRun) Delete(ctx context.Context, key string) error { return nil }

func (d DryRun) String() string { return d.Store.String() + " (dry run)" }
