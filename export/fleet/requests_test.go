package fleet

import "testing"

const mib = 1 << 20

func TestBuckets(t *testing.T) {
	for _, tc := range []struct {
		name     string
		size     int64
		bucket   int
		min, max int64
	}{
		{"nothing", 0, 0, 0, 0},
		{"one byte", 1, 1, 1, 4},
		{"three bytes", 3, 1, 1, 4},
		{"four bytes starts the next", 4, 2, 4, 16},
		{"fifteen", 15, 2, 4, 16},
		{"just under 1 KiB", 1023, 5, 256, 1024},
		{"1 KiB", 1024, 6, 1024, 4096},
		{"1 MiB", mib, 11, mib, 4 * mib},
		{"5 GiB", 5 << 30, 17, 4 << 30, 16 << 30},
		{"largest int64", 1<<63 - 1, 32, 1 << 62, 1<<63 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := bucketOf(tc.size)
			lo, hi := bucketBounds(k)
			if k != tc.bucket || lo != tc.min || hi != tc.max {
				t.Errorf("size %d: bucket %d [%d, %d), want %d [%d, %d)", tc.size, k, lo, hi, tc.bucket, tc.min, tc.max)
			}
		})
	}
}

func TestUploadRequests(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		size                  int64
		put, multipart, parts int64
	}{
		{"empty zip", 0, 1, 0, 0},
		{"1 MiB: one PutObject", mib, 1, 0, 0},
		{"a byte under the 8 MiB first part", 8*mib - 1, 1, 0, 0},
		{"exactly 8 MiB: the stream has not ended, so multipart", 8 * mib, 0, 2, 1},
		{"100 MiB: 13 parts of 8 MiB", 100 * mib, 0, 2, 13},
		// 72 GiB / 9,000 = 8,589,934.6 bytes, rounded up to 9 MiB parts;
		// 73,728 MiB / 9 MiB = 8,192 parts.
		{"72 GiB: 9 MiB parts", 72 << 30, 0, 2, 8192},
		// 3.6e12 / 9,000 = 4e8 bytes = 381.5 MiB, so 382 MiB parts
		// (400,556,032 bytes); 8,987 of them hold 3,599,797,059,584.
		{"3.6 TB: 382 MiB parts", 3_600_000_000_000, 0, 2, 8988},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put, mp, parts := upload(tc.size)
			if put != tc.put || mp != tc.multipart || parts != tc.parts {
				t.Errorf("upload(%d) = %d PUT, %d create+complete, %d parts; want %d, %d, %d",
					tc.size, put, mp, parts, tc.put, tc.multipart, tc.parts)
			}
		})
	}
}

func TestUserRequests(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		bytes, files, broadcasts int64
		maxPart                  int64
		rate                     float64
		want                     Requests
		roundTrips               int64
	}{
		{
			// Export: 4,096 bytes of tag files and viewer, one PutObject,
			// then manifest.json.
			name: "no broadcasts", rate: 50e6,
			want:       Requests{SourceList: 1, DestGet: 1, Claims: 1, DestPut: 2},
			roundTrips: 6, // list, manifest GET, claim, zip PUT, manifest PUT, claim release
		},
		{
			// Export: 20 MiB + 4,096 + 10 × 256 = 20,978,176 bytes, three
			// 8 MiB parts. Broadcast.json read twice: 10 + 3 GETs.
			name: "20 MiB in 10 files, 3 broadcasts", bytes: 20 * mib, files: 10, broadcasts: 3, rate: 50e6,
			want: Requests{SourceGet: 13, SourceList: 1, DestGet: 1, DestPut: 1, Multipart: 2, Parts: 3,
				Claims: 1},
			roundTrips: 13 + 1 + 1 + 1 + 2 + 2,
		},
		{
			// At 100 KB/s the 20,978,176 bytes stream for 209.8 s: 10
			// renewals every 20 s after the first claim.
			name: "slow stream renews its claim", bytes: 20 * mib, files: 10, broadcasts: 3, rate: 100e3,
			want: Requests{SourceGet: 13, SourceList: 1, DestGet: 1, DestPut: 1, Multipart: 2, Parts: 3,
				Claims: 11},
			roundTrips: 20,
		},
		{
			// 20,978,176 bytes in 8 MiB zips: two full parts (each a
			// one-part multipart upload, 8 MiB not being under 8 MiB) and
			// a last zip of 4,200,960 bytes sent as one PutObject.
			name: "split into 8 MiB zips", bytes: 20 * mib, files: 10, broadcasts: 3, maxPart: 8 * mib, rate: 50e6,
			want: Requests{SourceGet: 13, SourceList: 1, DestGet: 1, DestPut: 2, Multipart: 4, Parts: 2,
				Claims: 1},
			roundTrips: 13 + 1 + 1 + 2 + 4 + 2,
		},
		{
			// 2,500 objects take three list pages; the 1 MiB of source is
			// 1,048,576 + 4,096 + 640,000 = 1,692,672 bytes of zip.
			name: "2,500 small files", bytes: mib, files: 2500, broadcasts: 500, rate: 50e6,
			want:       Requests{SourceGet: 3000, SourceList: 3, DestGet: 1, DestPut: 2, Claims: 1},
			roundTrips: 3000 + 3 + 1 + 2 + 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Requests
			r.addUser(tc.bytes, tc.files, tc.broadcasts, tc.maxPart, tc.rate)
			if r != tc.want {
				t.Errorf("requests\n got %+v\nwant %+v", r, tc.want)
			}
			if got := r.roundTrips(); got != tc.roundTrips {
				t.Errorf("round trips %d, want %d", got, tc.roundTrips)
			}
		})
	}
}

func TestSplitSizes(t *testing.T) {
	for _, tc := range []struct {
		size, max, full, last int64
	}{
		{size: 10, max: 0, full: 0, last: 10},
		{size: 10, max: 10, full: 0, last: 10},
		{size: 11, max: 10, full: 1, last: 1},
		{size: 30, max: 10, full: 2, last: 10},
		{size: 1 << 40, max: mib, full: 1<<20 - 1, last: mib},
	} {
		full, last := splitSizes(tc.size, tc.max)
		if full != tc.full || last != tc.last {
			t.Errorf("splitSizes(%d, %d) = %d full + %d, want %d + %d", tc.size, tc.max, full, last, tc.full, tc.last)
		}
	}
}
