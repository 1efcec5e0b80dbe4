package mp4dur

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
)

// TestMatchesFFprobe feeds real MP4s through a Sniffer in awkward chunk
// sizes and compares with what ffprobe says: the sample's replays (moov
// first) and the same replays remuxed with moov last, as a recorder that
// never ran +faststart writes them.
func TestMatchesFFprobe(t *testing.T) {
	ffmpeg := need.Program(t, "scripts/install-deps (Debian's ffmpeg)", "ffmpeg")
	ffprobe := need.Program(t, "scripts/install-deps (Debian's ffmpeg)", "ffprobe")
	sample, err := fixtures.SamplePath()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(sample, "broadcasts", "*", "*", "replay.mp4"))
	if len(files) < 3 {
		t.Fatalf("%d sample replays", len(files))
	}
	for i, f := range files[:3] {
		last := filepath.Join(t.TempDir(), "moov-last.mp4")
		if out, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", f, "-c", "copy", "-y", last).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		for _, file := range []string{f, last} {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := probe(t, ffprobe, file)
			for _, chunk := range []int{1, 7, 4096, len(body)} {
				var s Sniffer
				for b := body; len(b) > 0; b = b[min(chunk, len(b)):] {
					s.Write(b[:min(chunk, len(b))])
				}
				got, ok := s.Duration()
				if !ok || math.Abs(got.Seconds()-want) > 0.1 {
					t.Errorf("%s (%d) chunks of %d: %v %v, ffprobe %.3fs", file, i, chunk, got, ok, want)
				}
			}
		}
	}
}

func TestNotAnMP4(t *testing.T) {
	for name, body := range map[string][]byte{
		"empty":          nil,
		"text":           []byte("this is not a movie at all, just some words"),
		"size zero":      {0, 0, 0, 0, 'f', 't', 'y', 'p'},
		"size too small": {0, 0, 0, 3, 'm', 'o', 'o', 'v', 1, 2, 3},
		"empty moov":     {0, 0, 0, 8, 'm', 'o', 'o', 'v'},
		"bad child":      append([]byte{0, 0, 0, 24, 'm', 'o', 'o', 'v', 0xff, 0xff, 0xff, 0xff, 'm', 'v', 'h', 'd'}, bytes.Repeat([]byte{1}, 8)...),
		"huge skip":      {0, 0, 0, 1, 'm', 'd', 'a', 't', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2},
	} {
		var s Sniffer
		if n, err := s.Write(body); n != len(body) || err != nil {
			t.Errorf("%s: Write %d, %v", name, n, err)
		}
		if d, ok := s.Duration(); ok {
			t.Errorf("%s: duration %v", name, d)
		}
	}
}

func probe(t *testing.T, ffprobe, file string) float64 {
	t.Helper()
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration",
		"-of", "default=noprint_wrappers=1:nokey=1", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", file, err, out)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe %s: %q", file, out)
	}
	return d
}
