package sunset

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// A versioned document is a folder of immutable objects 0000000001.json,
// 0000000002.json, ...; the highest version is the current one. Writing
// version N+1 create-only after reading version N is a compare-and-swap
// that is atomic on every backend: the local store's IfMatch is a check
// followed by a rename, which two writers can pass together; its
// IfNoneMatch is link(2), which only one can.

const versionDigits = 10

func versionKey(prefix string, n int) string {
	return fmt.Sprintf("%s%0*d.json", prefix, versionDigits, n)
}

// latestVersion returns the highest version under prefix and its body, or
// 0 and nil when there is none.
func latestVersion(ctx context.Context, st blob.Store, prefix string) (int, []byte, error) {
	n := 0
	err := st.List(ctx, prefix, func(info blob.Info) error {
		name := strings.TrimSuffix(path.Base(info.Key), ".json")
		if v, err := strconv.Atoi(name); err == nil && len(name) == versionDigits && v > n {
			n = v
		}
		return nil
	})
	if err != nil || n == 0 {
		return 0, nil, err
	}
	body, err := readObject(ctx, st, versionKey(prefix, n))
	return n, body, err
}

// writeVersion stores doc as version n, failing with a wrapped
// blob.ErrPrecondition if another writer stored it first.
func writeVersion(ctx context.Context, st blob.Store, prefix string, n int, doc any) error {
	return createJSON(ctx, st, versionKey(prefix, n), doc)
}

// createJSON stores doc under key unless the key exists.
func createJSON(ctx context.Context, st blob.Store, key string, doc any) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	b = append(b, '\n')
	_, err = st.Put(ctx, key, bytes.NewReader(b), blob.PutOptions{
		SizeHint: int64(len(b)), IfNoneMatch: true, ContentType: "application/json",
	})
	return err
}

func readObject(ctx context.Context, st blob.Store, key string) ([]byte, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 1<<20))
}

func readJSON(ctx context.Context, st blob.Store, key string, v any) error {
	b, err := readObject(ctx, st, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}
