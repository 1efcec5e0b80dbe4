package sunset

import (
	"fmt"
	"time"
)

// ParseTime reads a time as the command line gives it: RFC 3339
// (2021-03-31T00:00:00-07:00) or a date (2021-03-31), which means midnight
// in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2021-03-31T00:00:00-07:00) or a date (2021-03-31)", s)
}

// NextMarch31 is midnight at the start of the next March 31 in loc: this
// year's if now is before it, else next year's.
func NextMarch31(now time.Time, loc *time.Location) time.Time {
	now = now.In(loc)
	t := time.Date(now.Year(), time.March, 31, 0, 0, 0, 0, loc)
	if !now.Before(t) {
		t = time.Date(now.Year()+1, time.March, 31, 0, 0, 0, 0, loc)
	}
	return t
}
