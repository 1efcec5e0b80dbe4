package sunset

import (
	"testing"
	"time"
)

func TestNextMarch31(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		{"january", time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), time.UTC, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		{"the day before", time.Date(2026, 3, 30, 23, 59, 59, 0, time.UTC), time.UTC, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		{"at midnight it has begun", time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), time.UTC, time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)},
		{"during the day", time.Date(2026, 3, 31, 15, 0, 0, 0, time.UTC), time.UTC, time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)},
		{"december", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), time.UTC, time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)},
		// 03:00 UTC on March 31 is still March 30 in Los Angeles.
		{"zone decides", time.Date(2026, 3, 31, 3, 0, 0, 0, time.UTC), la, time.Date(2026, 3, 31, 0, 0, 0, 0, la)},
		{"zone decides after", time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC), la, time.Date(2027, 3, 31, 0, 0, 0, 0, la)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NextMarch31(tc.now, tc.loc); !got.Equal(tc.want) {
				t.Errorf("NextMarch31(%v, %v) = %v, want %v", tc.now, tc.loc, got, tc.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2021-03-31T00:00:00-07:00", time.Date(2021, 3, 31, 7, 0, 0, 0, time.UTC), true},
		{"2021-03-31T07:00:00Z", time.Date(2021, 3, 31, 7, 0, 0, 0, time.UTC), true},
		{"2021-03-31", time.Date(2021, 3, 31, 0, 0, 0, 0, la), true},
		{"2021-02-30", time.Time{}, false},
		{"31/03/2021", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
	} {
		got, err := ParseTime(tc.in, la)
		if (err == nil) != tc.ok || (tc.ok && !got.Equal(tc.want)) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
