package portal

import "github.com/periscope-sunset/periscope-sunset/internal/blob"

// Presigner makes time-limited GET URLs for objects of the export
// destination, so downloads go straight to the object store.
type Presigner = blob.Presigner

// PresignerFor returns the destination's presigner when it has one (S3,
// also through a dry-run wrapper), else nil: the portal then streams.
func PresignerFor(dst blob.Store) Presigner {
	if p, ok := blob.As[blob.Presigner](dst); ok {
		return p
	}
	return nil
}
