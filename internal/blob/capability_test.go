package blob

import (
	"context"
	"testing"
	"time"
)

// presignStore is a store with the Presigner and UploadAborter capabilities.
type presignStore struct {
	Store
	aborted int
}

func (p *presignStore) PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	return "https://example.invalid/" + key, nil
}

func (p *presignStore) AbortIncompleteUploads(ctx context.Context, prefix string) (int, error) {
	p.aborted++
	return 1, nil
}

func TestAsLooksThroughWrappers(t *testing.T) {
	inner := &presignStore{}
	cases := []struct {
		name          string
		store         Store
		wantPresigner bool
		wantAborts    int // aborts the inner store sees after one AbortIncompleteUploads
	}{
		{"bare store", inner, true, 1},
		{"dry run keeps read capabilities, neutralises aborts", DryRun{Store: inner}, true, 0},
		{"dry run of a dry run", DryRun{Store: DryRun{Store: inner}}, true, 0},
		{"store without capabilities", DryRun{Store: &FileStore{}}, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inner.aborted = 0
			if _, ok := As[Presigner](c.store); ok != c.wantPresigner {
				t.Errorf("As[Presigner] found = %v, want %v", ok, c.wantPresigner)
			}
			a, ok := As[UploadAborter](c.store)
			if c.wantPresigner && !ok {
				t.Fatal("As[UploadAborter] found nothing")
			}
			if ok {
				a.AbortIncompleteUploads(context.Background(), "u/")
			}
			if inner.aborted != c.wantAborts {
				t.Errorf("inner store saw %d aborts, want %d", inner.aborted, c.wantAborts)
			}
		})
	}
}
