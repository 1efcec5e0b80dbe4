package blob

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// PutJSON stores v as indented JSON with a final newline, the one way the
// tool writes the JSON documents people and scripts read (run reports,
// manifests, records). opts.ContentType defaults to application/json.
func PutJSON(ctx context.Context, st Store, key string, v any, opts PutOptions) (Info, error) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return Info{}, fmt.Errorf("encode %s: %w", key, err)
	}
	if opts.ContentType == "" {
		opts.ContentType = "application/json"
	}
	return st.Put(ctx, key, bytes.NewReader(append(body, '\n')), opts)
}
