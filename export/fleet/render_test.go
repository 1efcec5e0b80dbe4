package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// TestWriteText plans the committed sample and checks that the text names
// every figure with its reason.
func TestWriteText(t *testing.T) {
	dir, err := fixtures.SamplePath()
	if err != nil {
		t.Fatal(err)
	}
	src, err := blob.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Plan(context.Background(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, s := range []string{
		"users           10", "9 with broadcasts, 1 without",
		"broadcasts      13", "source objects  46",
		"shards          1", "--shard-count 1",
		"instance        c7g.large", "workers         8",
		"estimated time", "S3 requests of a first run", "total",
		"on AWS Batch submit it without arrayProperties",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("output lacks %q:\n%s", s, text)
		}
	}
	// Every figure of the fleet and request sections comes with its reason.
	section := ""
	for _, line := range strings.Split(text, "\n") {
		if line != "" && !strings.HasPrefix(line, " ") {
			section = line
			continue
		}
		if !strings.HasPrefix(section, "Recommended") && !strings.HasPrefix(section, "S3 requests") || line == "" {
			continue
		}
		if fields := strings.Fields(line); len(fields) < 4 {
			t.Errorf("%q: no explanation", line)
		}
	}
}

func TestBytesAndCount(t *testing.T) {
	for in, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB",
		5 << 30: "5 GiB", 3 << 40: "3 TiB"} {
		if got := byteSize(in); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := count(in); got != want {
			t.Errorf("count(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{18: "18.0 h", 1.25: "1.2 h", 0.5: "30 min", 0.001: "4 s"} {
		if got := hours(in); got != want {
			t.Errorf("hours(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	r, err := Recommend(catalogOf([]*userStat{{id: "a", bytes: 100, files: 1, broadcasts: 1}}, 1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"catalog", "assumptions", "shards", "instance", "estimated_hours", "s3_requests", "fits_deadline"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
}
