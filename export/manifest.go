package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// ManifestName is the completion marker of a user's export, written last.
const ManifestName = "manifest.json"

// Manifest is a user's manifest.json: the parts, every file in them, and
// what the export was made from.
type Manifest struct {
	Format            string       `json:"format"`
	UserID            string       `json:"user_id"`
	ToolVersion       string       `json:"tool_version"`
	RunID             string       `json:"run_id"`
	CreatedAt         string       `json:"created_at"`
	SourceFingerprint string       `json:"source_fingerprint"`
	Broadcasts        int          `json:"broadcasts"`
	PayloadOxum       string       `json:"payload_oxum"`
	Bytes             int64        `json:"bytes"` // sum of part sizes
	Parts             []PartRecord `json:"parts"`
	Files             []FileRecord `json:"files"`
	// Omitted lists what could not be exported safely, and why; the rest
	// of the export is complete. Also in the bag as data/omitted.json.
	Omitted []Omission `json:"omitted,omitempty"`
}

// PartRecord is one zip part; Key is relative to the destination root.
type PartRecord struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// FileRecord is one file of the bag and the part (1-based) that holds it.
type FileRecord struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Part   int    `json:"part"`
}

func manifestKey(uid string) string { return uid + "/" + ManifestName }

// partKey names part n of count for a user, as DESIGN.md fixes it.
func partKey(uid string, n, count int) string {
	if count == 1 {
		return fmt.Sprintf("%s/periscope-%s.zip", uid, uid)
	}
	return fmt.Sprintf("%s/periscope-%s-part-%03d-of-%03d.zip", uid, uid, n, count)
}

// ReadManifest reads a user's manifest.json; a missing one is ErrNotExist.
func ReadManifest(ctx context.Context, dst blob.Store, uid string) (*Manifest, error) {
	rc, err := dst.Get(ctx, manifestKey(uid))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(rc, 256<<20)).Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", manifestKey(uid), err)
	}
	if m.Format != formatVersion {
		return &m, fmt.Errorf("%s: format %q, want %q", manifestKey(uid), m.Format, formatVersion)
	}
	return &m, nil
}

func isNotExist(err error) bool { return errors.Is(err, blob.ErrNotExist) }
