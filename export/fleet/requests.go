package fleet

import "time"

// The upload rule of the S3 store (internal/blob): the first part is 8 MiB,
// or hint/9,000 rounded up to a whole MiB when that is larger, so a part
// count stays under S3's 10,000. An upload smaller than its first part goes
// up as one PutObject; anything else is a multipart upload.
const (
	minPartSize   = 8 << 20
	partsPerHint  = 9_000
	maxUploadPart = 5 << 30
)

// Export overheads, calibrated on fixtures/sample, whose users' zips are
// 3.2 to 6.5 KiB larger than their source objects: zip headers and the
// central directory per file, and per user the generated profile, index,
// viewer and BagIt tag files. Rounded up, since they only feed estimates.
const (
	userOverhead = 4 << 10
	fileOverhead = 256
)

// claimRenewal is how often a worker renews its lease on the user it
// writes: a third of the export's default claim lifetime of one minute.
const claimRenewal = 20 * time.Second

// Requests counts the S3 requests of a first run, in which every user is
// exported once. The classes are S3's billing classes.
type Requests struct {
	SourceGet  int64 `json:"source_get"`  // GetObject of source objects and users.jsonl
	SourceList int64 `json:"source_list"` // ListObjectsV2 pages of the users' folders
	DestGet    int64 `json:"dest_get"`    // GetObject of manifest.json, absent on a first run
	DestPut    int64 `json:"dest_put"`    // single-request PutObject uploads
	Multipart  int64 `json:"multipart"`   // CreateMultipartUpload + CompleteMultipartUpload
	Parts      int64 `json:"parts"`       // UploadPart
	DestList   int64 `json:"dest_list"`   // leftover-upload and stale-part listings: re-exports only, none on a first run
	Claims     int64 `json:"claims"`      // lease PutObject and renewals
	Reports    int64 `json:"reports"`     // one run report per shard
	PutClass   int64 `json:"put_class"`   // PUT, POST and LIST requests
	GetClass   int64 `json:"get_class"`   // GET requests
	Total      int64 `json:"total"`       // both classes
}

// upload counts the requests of one Put of size bytes whose size hint is
// right: single PutObjects, multipart starts+completes, and parts.
func upload(size int64) (put, multipart, parts int64) {
	first := firstPartSize(size)
	if size < first {
		return 1, 0, 0
	}
	return 0, 2, ceilDiv(size, first)
}

// firstPartSize mirrors the S3 store's choice of part size for a hint.
func firstPartSize(hint int64) int64 {
	per := ceilDiv(hint, partsPerHint)
	per = ceilDiv(per, 1<<20) << 20
	return min(max(minPartSize, per), maxUploadPart)
}

// exportSize estimates the bytes of a user's export from its source.
func exportSize(bytes, files int64) int64 {
	return bytes + userOverhead + fileOverhead*files
}

// addUser adds the requests one user costs the first time it is
// exported, in the order the export makes them. streamRate is the bytes per
// second one worker streams, for the claim renewals.
func (r *Requests) addUser(bytes, files, broadcasts, maxPart int64, streamRate float64) {
	r.SourceList += max(1, ceilDiv(files, listPageSize))
	r.DestGet++                       // manifest.json: is the user done?
	r.Claims++                        // take the lease (its DELETE at the end is free; see roundTrips)
	r.SourceGet += files + broadcasts // each broadcast.json is read twice: plan, then copy
	size := exportSize(bytes, files)
	full, last := splitSizes(size, maxPart)
	for _, p := range []struct{ n, size int64 }{{full, maxPart}, {1, last}} {
		put, mp, parts := upload(p.size)
		r.DestPut += p.n * put
		r.Multipart += p.n * mp
		r.Parts += p.n * parts
	}
	r.DestPut++ // manifest.json
	// No leftover-upload or stale-part listing: a first export takes its
	// claim fresh, with no earlier manifest, and then skips both.
	if streamRate > 0 {
		r.Claims += int64(float64(size) / streamRate / claimRenewal.Seconds())
	}
}

// addShards adds what each shard costs once: users.jsonl read twice (to
// count, then to export) and the run report.
func (r *Requests) addShards(n int64) {
	r.SourceGet += 2 * n
	r.Reports += n
}

func (r *Requests) total() {
	r.PutClass = r.SourceList + r.DestPut + r.Multipart + r.Parts + r.DestList + r.Claims + r.Reports
	r.GetClass = r.SourceGet + r.DestGet
	r.Total = r.PutClass + r.GetClass
}

// splitSizes cuts an export of size bytes into full zip parts of maxPart
// bytes and a last part of the rest (maxPart 0: one part). Files never span
// parts, so real parts are a little uneven; the count is what matters here.
func splitSizes(size, maxPart int64) (full, last int64) {
	if maxPart <= 0 || size <= maxPart {
		return 0, size
	}
	full = (size - 1) / maxPart
	return full, size - full*maxPart
}
