package blob

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Every PutObject and UploadPart carries the CRC-32C of its body in the
// x-amz-checksum-crc32c header, so S3 refuses a body corrupted on the way
// (400 BadDigest) instead of storing it; multipart uploads also ask for a
// full-object CRC-32C, which S3 checks against the whole object on
// completion. The value is computed here from the final part buffer, just
// before it is sent, and set on the input: the SDK then sends it as a
// header and computes nothing itself (no aws-chunked trailer), so the
// UNSIGNED-PAYLOAD signing stays as it is. CRC-32C rather than CRC64NVME:
// hash/crc32 uses the CPU's CRC32 instructions on amd64 and arm64, and
// the standard library has no CRC64NVME table.

// resendCorrupted is a per-call option for PutObject and UploadPart: S3
// answers BadDigest when the body it received does not match the CRC-32C
// the request carried, and the buffer is still in memory, so the SDK's
// retryer sends it again. Other calls keep BadDigest final: a checksum
// refused on completion would be refused the same way again.
func resendCorrupted(o *s3.Options) { o.Retryer = retry.AddWithErrorCodes(o.Retryer, "BadDigest") }

// castagnoli is the CRC-32C table; crc32 picks the hardware path for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32cOf is the CRC-32C of b in S3's form.
func crc32cOf(b []byte) *string { return crc32cSum(crc32.Checksum(b, castagnoli)) }

// crc32cSum is the S3 form of a CRC-32C: base64 of its 4 big-endian bytes.
func crc32cSum(crc uint32) *string {
	return aws.String(base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc)))
}

// partSums records the CRC-32C and size of each part of a multipart
// upload, so the full-object CRC can be combined from them at the end
// without another pass over the bytes. A part sent twice keeps its last
// value.
type partSums struct {
	mu    sync.Mutex
	parts map[int32]partSum
}

type partSum struct {
	crc  uint32
	size int64
}

// add computes part n's CRC-32C, records it and returns it in S3's form.
func (p *partSums) add(n int32, b []byte) *string {
	crc := crc32.Checksum(b, castagnoli)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.parts == nil {
		p.parts = map[int32]partSum{}
	}
	p.parts[n] = partSum{crc, int64(len(b))}
	return crc32cSum(crc)
}

// whole is the CRC-32C of the parts joined in part-number order.
func (p *partSums) whole() *string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var crc uint32
	for _, n := range slices.Sorted(maps.Keys(p.parts)) {
		crc = crc32Combine(crc32.Castagnoli, crc, p.parts[n].crc, p.parts[n].size)
	}
	return crc32cSum(crc)
}

// crc32Combine returns the CRC of A followed by B from crc1 = CRC(A),
// crc2 = CRC(B) and len2 = len(B), for the reflected polynomial poly. It
// is zlib's crc32_combine: appending len2 zero bytes to A is a linear map
// on the CRC register, applied by repeated squaring of the one-zero-bit
// operator in GF(2).
func crc32Combine(poly, crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1 ^ crc2
	}
	var even, odd [32]uint32
	odd[0] = poly // the operator for one zero bit
	for n, row := 1, uint32(1); n < 32; n, row = n+1, row<<1 {
		odd[n] = row
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		gf2Square(&even, &odd) // one zero byte, then 4, 16, ...
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		if len2 >>= 1; len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		if len2 >>= 1; len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range 32 {
		square[n] = gf2Times(mat, mat[n])
	}
}
