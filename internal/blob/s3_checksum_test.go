package blob

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// TestCRC32Combine checks the combined CRC of parts against one pass over
// the whole, for part sizes around the squaring steps' edges.
func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20+3)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	want := crc32.Checksum(data, castagnoli)
	for _, sizes := range [][]int{
		{len(data)},
		{1, len(data) - 1},
		{len(data) - 1, 1},
		{0, len(data)},
		{4096, 4096, 65536, len(data) - 4096*2 - 65536},
		{333333, 333333, 333333, len(data) - 999999},
	} {
		var p partSums
		off := 0
		for i, n := range sizes {
			p.add(int32(i+1), data[off:off+n])
			off += n
		}
		if got, w := *p.whole(), *crc32cSum(want); got != w {
			t.Errorf("parts %v: combined %s, want %s", sizes, got, w)
		}
	}
}

// TestCRC32cSumForm checks the S3 form against a known value: CRC-32C of
// "123456789" is 0xE3069283 (RFC 3720 check value).
func TestCRC32cSumForm(t *testing.T) {
	if got := *crc32cSum(crc32.Checksum([]byte("123456789"), castagnoli)); got != "4waSgw==" {
		t.Errorf("crc32c(123456789) = %s, want 4waSgw==", got)
	}
}

// BenchmarkPartCRC32C is the checksum's cost per 8 MiB part, the pass
// over the final part buffer before it is sent.
func BenchmarkPartCRC32C(b *testing.B) {
	buf := make([]byte, 8<<20)
	b.SetBytes(int64(len(buf)))
	var p partSums
	for i := 0; b.Loop(); i++ {
		p.add(int32(i%maxParts+1), buf)
	}
}
