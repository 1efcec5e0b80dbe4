package units

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true},
		{"512KiB", 512 << 10, true},
		{"8MiB", 8 << 20, true},
		{"1.5GiB", 3 << 29, true},
		{"2TiB", 2 << 40, true},
		{"500KB", 500e3, true},
		{"8MB", 8e6, true},
		{"1GB", 1e9, true},
		{"64M", 64 << 20, true},
		{" 16 MiB ", 16 << 20, true},
		{"0", 0, true},
		{"", 0, false},
		{"-1MiB", 0, false},
		{"1e30", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"8 pigs", 0, false},
		{"MiB", 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseSize(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d, ok=%v", c.in, got, err, c.want, c.ok)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * day, true},
		{"7d12h", 7*day + 12*time.Hour, true},
		{"720h", 720 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"0s", 0, true},
		{"-5m", 0, false},
		{"5d-3h", 0, false},
		{"-1d", 0, false},
		{"1y", 0, false},
		{"d", 0, false},
		{"36501d", 0, false},
		{"", 0, false},
		{"7dd", 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseDuration(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"10/s", 10, true},
		{"10", 10, true},
		{"300/m", 5, true},
		{"300/min", 5, true},
		{"3600/h", 1, true},
		{"0.5/s", 0.5, true},
		{"0/s", 0, false},
		{"-1/s", 0, false},
		{"NaN/s", 0, false},
		{"10/d", 0, false},
		{"ten", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseRate(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("ParseRate(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
			}
		})
	}
}
