package units

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxSize bounds ParseSize, far above any real part or budget size and far
// below where float64 arithmetic stops being exact enough.
const maxSize = 1 << 62

// ParseSize reads a byte size: 1048576, 512KiB, 8MiB, 1.5GiB, 2TiB (powers
// of 1024), 500KB, 8MB, 1GB (powers of 1000), or K/M/G/T alone (1024).
func ParseSize(s string) (int64, error) {
	in := s
	s = strings.TrimSpace(s)
	suffixes := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	mult := 1.0
	for _, u := range suffixes {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*mult > maxSize || f != f {
		return 0, fmt.Errorf("invalid size %q: want e.g. 8MiB, 1.5GiB or 500MB", in)
	}
	return int64(f * mult), nil
}

// ParseDuration reads a duration that may start with whole days: 30d,
// 7d12h, or any Go duration such as 720h or 90m. Negative durations are
// refused: no flag of the tool means anything by one.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("invalid duration %q: want e.g. 30d, 720h or 90m", s)
	if strings.Contains(s, "-") {
		return 0, fmt.Errorf("invalid duration %q: negative durations mean nothing here", s)
	}
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, bad
		}
		return d, nil
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > 100*365 {
		return 0, bad
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	return d + r, nil
}

// ParseRate reads a rate, N/s, N/m or N/h (N alone is per second), as
// events per second.
func ParseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), "/")
	per := map[string]time.Duration{"": time.Second, "s": time.Second, "m": time.Minute, "min": time.Minute, "h": time.Hour}[unit]
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || per == 0 || !(n > 0) || n > 1e9 {
		return 0, fmt.Errorf("invalid rate %q: want e.g. 10/s, 300/m or 1000/h", s)
	}
	return n / per.Seconds(), nil
}
