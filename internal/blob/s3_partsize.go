package blob

// S3 takes at most 10,000 parts per upload, each at most 5 GiB, and every
// part but the last at least 5 MiB.
const (
	maxParts    = 10_000
	maxPartSize = 5 << 30
	minPartSize = 8 << 20
	// growAfter is how many parts keep the first part's size. The hint is
	// spread over this many parts, leaving 1,000 spare for a hint that
	// was too small.
	growAfter = 9_000
	// growEvery is how many parts each doubling lasts past growAfter: ten
	// doublings fit in the spare parts, so even with no hint an upload
	// holds over 1.3 TiB before it runs out of parts (at the price of
	// part buffers of up to 5 GiB near the end).
	growEvery = 100
)

// firstPartSize picks the part size for an upload of about hint bytes (0:
// unknown): 8 MiB, or enough that the hint fits in growAfter parts, in
// whole MiB.
func firstPartSize(hint int64) int64 {
	size := int64(minPartSize)
	if hint > 0 {
		per := (hint + growAfter - 1) / growAfter
		per = (per + 1<<20 - 1) &^ (1<<20 - 1)
		size = max(size, per)
	}
	return min(size, maxPartSize)
}

// partSize is the size of part n (counting from 1) of an upload whose first
// part is first bytes. Parts past growAfter double every growEvery parts,
// so a stream longer than its hint still fits in maxParts.
func partSize(first int64, n int) int64 {
	if n <= growAfter {
		return first
	}
	shift := (n-growAfter-1)/growEvery + 1
	return min(first<<shift, maxPartSize)
}
