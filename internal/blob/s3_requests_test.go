package blob

import "testing"

func TestUploadRequests(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name                  string
		size, hint            int64
		put, multipart, parts int64
	}{
		{"empty zip", 0, 0, 1, 0, 0},
		{"1 MiB: one PutObject", mib, mib, 1, 0, 0},
		{"a byte under the 8 MiB first part", 8*mib - 1, 8*mib - 1, 1, 0, 0},
		{"exactly 8 MiB: the stream has not ended, so multipart", 8 * mib, 8 * mib, 0, 2, 1},
		{"100 MiB: 13 parts of 8 MiB", 100 * mib, 100 * mib, 0, 2, 13},
		// 72 GiB / 9,000 = 8,589,934.6 bytes, rounded up to 9 MiB parts;
		// 73,728 MiB / 9 MiB = 8,192 parts.
		{"72 GiB: 9 MiB parts", 72 << 30, 72 << 30, 0, 2, 8192},
		// 3.6e12 / 9,000 = 4e8 bytes = 381.5 MiB, so 382 MiB parts
		// (400,556,032 bytes); 8,987 of them hold 3,599,797,059,584.
		{"3.6 TB: 382 MiB parts", 3_600_000_000_000, 3_600_000_000_000, 0, 2, 8988},
		// A 9 MiB hint keeps 8 MiB parts: 20 MiB is three of them.
		{"hint smaller than the stream", 20 * mib, 9 * mib, 0, 2, 3},
		// 80 GiB (81,920 MiB) with no hint: 9,000 parts of 8 MiB hold
		// 72,000 MiB, then parts double every 100: 100 of 16 MiB (1,600
		// MiB), 100 of 32 MiB (3,200 MiB), and 80 of 64 MiB for the last
		// 5,120 MiB.
		{"no hint: parts grow past 9,000", 80 << 30, 0, 0, 2, 9000 + 100 + 100 + 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put, mp, parts := UploadRequests(tc.size, tc.hint)
			if put != tc.put || mp != tc.multipart || parts != tc.parts {
				t.Errorf("UploadRequests(%d, %d) = %d PUT, %d create+complete, %d parts; want %d, %d, %d",
					tc.size, tc.hint, put, mp, parts, tc.put, tc.multipart, tc.parts)
			}
		})
	}
}

func TestListRequests(t *testing.T) {
	for n, want := range map[int64]int64{0: 1, 1: 1, 1000: 1, 1001: 2, 2500: 3} {
		if got := ListRequests(n); got != want {
			t.Errorf("ListRequests(%d) = %d, want %d", n, got, want)
		}
	}
}
