package blob

// The request arithmetic of the S3 store, for planners that count what a
// run will cost (export/fleet). It is written beside Put and List, from
// their own constants, so that a change there changes the count too.

// SmallObjectSize is the head Put reads before it commits to a part
// buffer: a stream that ends within it goes up as one PutObject.
const SmallObjectSize = smallSize

// ListPageSize is how many keys one ListObjectsV2 request returns: S3's
// default page, which List does not change.
const ListPageSize = 1000

// FirstPartSize is the part size Put chooses for an upload whose
// PutOptions.SizeHint is hint (0: unknown): 8 MiB, or hint/9,000 rounded
// up to a whole MiB when that is larger, at most 5 GiB.
func FirstPartSize(hint int64) int64 { return firstPartSize(hint) }

// UploadRequests counts the requests one Put of size bytes with SizeHint
// hint sends: put single PutObjects (a stream shorter than its first part,
// or within SmallObjectSize), multipart CreateMultipartUpload plus
// CompleteMultipartUpload, and parts UploadPart requests. A stream of
// exactly one first part is a one-part multipart upload: Put learns that
// it ended only on the next read.
func UploadRequests(size, hint int64) (put, multipart, parts int64) {
	first := firstPartSize(hint)
	if size < first { // first is at least 8 MiB, so SmallObjectSize is within it
		return 1, 0, 0
	}
	for n := 1; size > 0 && n <= maxParts; n++ {
		size -= partSize(first, n)
		parts++
	}
	return 0, 2, parts
}

// ListRequests is how many ListObjectsV2 requests List makes for a prefix
// holding n keys: one even when there are none.
func ListRequests(n int64) int64 {
	return max(1, (n+ListPageSize-1)/ListPageSize)
}
