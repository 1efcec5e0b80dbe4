package fleet

import (
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
)

// Requests counts the S3 requests of a first run, in which every user is
// exported once. The classes are S3's billing classes. What a user costs
// is the export's own count (export.FirstExportRequests); only the claim
// renewals, which depend on time, are estimated here.
type Requests struct {
	SourceGet  int64 `json:"source_get"`  // GetObject of source objects and users.jsonl
	SourceList int64 `json:"source_list"` // ListObjectsV2 pages of the users' folders
	DestGet    int64 `json:"dest_get"`    // GetObject of manifest.json, absent on a first run
	DestPut    int64 `json:"dest_put"`    // single-request PutObject uploads: small zips, manifests
	Multipart  int64 `json:"multipart"`   // CreateMultipartUpload + CompleteMultipartUpload
	Parts      int64 `json:"parts"`       // UploadPart
	DestList   int64 `json:"dest_list"`   // leftover-upload and stale-part listings: re-exports only, none on a first run
	Claims     int64 `json:"claims"`      // lease PutObject and renewals
	Reports    int64 `json:"reports"`     // one run report per shard
	DestDelete int64 `json:"dest_delete"` // claim releases: free, so in no class
	PutClass   int64 `json:"put_class"`   // PUT, POST and LIST requests
	GetClass   int64 `json:"get_class"`   // GET requests
	Total      int64 `json:"total"`       // both classes
}

// addUser adds the requests one user costs the first time it is exported.
// No leftover-upload or stale-part listing: a first export takes its claim
// fresh, with no earlier manifest, and then skips both.
func (r *Requests) addUser(one export.UserRequests) {
	r.SourceGet += one.SourceGet
	r.SourceList += one.SourceList
	r.DestGet += one.DestGet
	r.DestPut += one.DestPut
	r.Multipart += one.Multipart
	r.Parts += one.Parts
	r.Claims += one.Claims
	r.DestDelete += one.DestDelete
}

// renewals is how many times a worker renews its claim on a user of size
// export bytes, streamed at rate bytes per second, renewing every period.
func renewals(size int64, rate float64, period time.Duration) int64 {
	if rate <= 0 || period <= 0 {
		return 0
	}
	return int64(float64(size) / rate / period.Seconds())
}

// addShards adds what each shard costs once.
func (r *Requests) addShards(n int64) {
	run := export.RunRequests()
	r.SourceGet += run.SourceGet * n
	r.Reports += run.Reports * n
}

func (r *Requests) total() {
	r.PutClass = r.SourceList + r.DestPut + r.Multipart + r.Parts + r.DestList + r.Claims + r.Reports
	r.GetClass = r.SourceGet + r.DestGet
	r.Total = r.PutClass + r.GetClass
}
