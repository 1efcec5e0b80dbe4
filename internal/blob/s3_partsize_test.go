package blob

import "testing"

// capacity is the most an upload can hold in maxParts parts.
func capacity(first int64) int64 {
	var total int64
	for n := 1; n <= maxParts; n++ {
		total += partSize(first, n)
	}
	return total
}

// partsFor is how many parts an upload of size bytes takes.
func partsFor(first, size int64) int {
	n := 0
	for size > 0 {
		n++
		size -= partSize(first, n)
	}
	return max(n, 1)
}

func TestPartSizeLimits(t *testing.T) {
	const (
		MiB = 1 << 20
		GiB = 1 << 30
		TiB = 1 << 40
	)
	cases := []struct {
		name       string
		hint, size int64
		wantFirst  int64
	}{
		{"no hint, small", 0, 1, 8 * MiB},
		{"no hint, 70 GiB", 0, 70 * GiB, 8 * MiB},
		{"no hint, 1 TiB", 0, 1 * TiB, 8 * MiB},
		{"exact hint 10 GiB", 10 * GiB, 10 * GiB, 8 * MiB},
		{"exact hint 100 GiB", 100 * GiB, 100 * GiB, 12 * MiB},
		{"exact hint 5 TiB", 5 * TiB, 5 * TiB, 583 * MiB},
		{"hint 10x too small", 50 * GiB, 500 * GiB, 8 * MiB},
		{"hint 100x too small", 10 * GiB, 1 * TiB, 8 * MiB},
		{"hint too big", 1 * TiB, 1 * GiB, 117 * MiB},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first := firstPartSize(c.hint)
			if first != c.wantFirst {
				t.Errorf("firstPartSize(%d) = %d MiB, want %d MiB", c.hint, first/MiB, c.wantFirst/MiB)
			}
			if first%MiB != 0 || first < 5*MiB || first > maxPartSize {
				t.Errorf("first part %d: not whole MiB within S3's limits", first)
			}
			if n := partsFor(first, c.size); n > maxParts {
				t.Errorf("%d bytes take %d parts, more than %d", c.size, n, maxParts)
			}
		})
	}
}

func TestPartSizeGrowth(t *testing.T) {
	for _, first := range []int64{firstPartSize(0), firstPartSize(1 << 40), maxPartSize} {
		prev := first
		for n := 1; n <= maxParts; n++ {
			size := partSize(first, n)
			if size < prev || size > maxPartSize {
				t.Fatalf("first %d: part %d is %d after %d: parts must grow, up to %d", first, n, size, prev, maxPartSize)
			}
			if n <= growAfter && size != first {
				t.Fatalf("first %d: part %d is %d, want the first size until part %d", first, n, size, growAfter)
			}
			prev = size
		}
	}
	if got := capacity(firstPartSize(0)); got < 1300<<30 {
		t.Errorf("with no hint an upload holds %d GiB, want over 1.3 TiB", got>>30)
	}
}
