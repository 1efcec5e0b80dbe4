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

var _ PatchPutter = DryRun{}

// PutPatchable implements PatchPutter: the stream is drained and counted,
// patches are checked and dropped. Its Info has no SHA-256: nothing is
// stored to hash, and a stream with patches cannot be hashed in passing.
func (d DryRun) PutPatchable(ctx context.Context, key string, opts PutOptions) (PatchWriter, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return &dryUpload{key: key, opts: opts}, nil
}

type dryUpload struct {
	key  string
	opts PutOptions
	n    int64
	held held
}

func (u *dryUpload) Write(b []byte) (int, error) {
	u.n += int64(len(b))
	if u.opts.Progress != nil {
		u.opts.Progress(int64(len(b)))
	}
	return len(b), nil
}

func (u *dryUpload) Hold(b []byte) error {
	if err := u.held.hold(u.n, len(b)); err != nil {
		return err
	}
	_, err := u.Write(b)
	return err
}

func (u *dryUpload) Patch(off int64, b []byte) error { return u.held.check(off, len(b)) }
func (u *dryUpload) Release() error                  { return u.held.release() }
func (u *dryUpload) Abort()                          {}

func (u *dryUpload) Commit() (Info, error) {
	if u.held.on {
		return Info{}, errHeld
	}
	return Info{Key: u.key, Size: u.n}, nil
}
