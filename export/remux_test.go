package export

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/testutil/need"
)

const hlsUser, hlsBroadcast = "alice", "1YqKDoNRgZexV"

func ffmpegPath(t *testing.T) string {
	return need.Program(t, "scripts/install-deps (Debian's ffmpeg)", "ffmpeg")
}

func probeSeconds(t *testing.T, file string) float64 {
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func readBroadcastIndex(t *testing.T, bag string) map[string]Broadcast {
	var bs []Broadcast
	b, _ := os.ReadFile(filepath.Join(bag, "data", "broadcasts.json"))
	if err := json.Unmarshal(b, &bs); err != nil {
		t.Fatal(err)
	}
	out := map[string]Broadcast{}
	for _, x := range bs {
		out[x.ID] = x
	}
	return out
}

func TestRemuxHLSToMP4(t *testing.T) {
	srcDir := copySample(t)
	dst := fileStore(t, t.TempDir())
	runExport(t, fileStore(t, srcDir), dst, Options{FFmpeg: ffmpegPath(t), Remux: RemuxRequire})
	bag := extractExport(t, dst, hlsUser)
	mp4 := filepath.Join(bag, "data", "broadcasts", hlsBroadcast, "replay.mp4")
	f, _ := os.Open(filepath.Join(srcDir, "broadcasts", hlsUser, hlsBroadcast, "hls", "playlist.m3u8"))
	segs, want, err := parsePlaylist(f, "playlist.m3u8")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	segment := want / float64(len(segs))
	if got := probeSeconds(t, mp4); math.Abs(got-want) > segment {
		t.Fatalf("remuxed MP4 lasts %.3fs, playlist %.3fs: more than one segment (%.3fs) apart", got, want, segment)
	}
	b := readBroadcastIndex(t, bag)[hlsBroadcast]
	if b.ReplayFormat != "mp4" || !strings.HasSuffix(b.Replay, "/replay.mp4") || !strings.HasSuffix(b.RemuxedFrom, "playlist.m3u8") {
		t.Fatalf("broadcasts.json: %+v", b)
	}
	if _, err := os.Stat(filepath.Join(bag, "data", "broadcasts", hlsBroadcast, "hls", "segment000.ts")); err != nil {
		t.Fatal("the HLS original must be kept next to the MP4")
	}
	page, _ := os.ReadFile(filepath.Join(bag, "index.html"))
	if !strings.Contains(string(page), `src="data/broadcasts/`+hlsBroadcast+`/replay.mp4"`) {
		t.Fatal("index.html does not play the remuxed replay")
	}
}

func TestRemuxModes(t *testing.T) {
	ffmpeg := ffmpegPath(t)
	breakPlaylist := func(t *testing.T, src string) {
		os.Remove(filepath.Join(src, "broadcasts", hlsUser, hlsBroadcast, "hls", "segment001.ts"))
	}
	for _, tc := range []struct {
		name     string
		opts     Options
		broken   bool
		exported bool
		format   string
		warning  string
	}{
		{"never keeps HLS", Options{Remux: RemuxNever, FFmpeg: ffmpeg}, false, true, "hls", ""},
		{"auto without ffmpeg keeps HLS", Options{Remux: RemuxAuto}, false, true, "hls", ""},
		{"auto with a broken playlist keeps HLS and warns", Options{Remux: RemuxAuto, FFmpeg: ffmpeg}, true, true, "hls", "left as HLS"},
		{"require with a broken playlist fails the user", Options{Remux: RemuxRequire, FFmpeg: ffmpeg}, true, false, "", "segment001.ts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcDir := copySample(t)
			if tc.broken {
				breakPlaylist(t, srcDir)
			}
			dst := fileStore(t, t.TempDir())
			tc.opts.Only = map[string]bool{hlsUser: true}
			rep := runExport(t, fileStore(t, srcDir), dst, tc.opts)
			if (rep.Users.Exported == 1) != tc.exported {
				t.Fatalf("report %+v %+v", rep.Users, rep.Failures)
			}
			var said string
			for _, w := range append(rep.Warnings, rep.Failures...) {
				said += w.Reason + "\n"
			}
			if !strings.Contains(said, tc.warning) {
				t.Fatalf("want %q in warnings/failures, got %q", tc.warning, said)
			}
			if !tc.exported {
				return
			}
			bag := extractExport(t, dst, hlsUser)
			if got := readBroadcastIndex(t, bag)[hlsBroadcast].ReplayFormat; got != tc.format {
				t.Fatalf("replay format %q, want %q", got, tc.format)
			}
			page, _ := os.ReadFile(filepath.Join(bag, "index.html"))
			if !strings.Contains(string(page), "HLS format") {
				t.Fatal("index.html should note the replay left as HLS")
			}
		})
	}
}

func TestParsePlaylistRefusesEscapes(t *testing.T) {
	for _, seg := range []string{"../x.ts", "/etc/passwd", "http://evil/x.ts", "sub/x.ts", `..\x.ts`} {
		in := "#EXTM3U\n#EXTINF:1.0,\n" + seg + "\n"
		if _, _, err := parsePlaylist(strings.NewReader(in), "p.m3u8"); err == nil {
			t.Errorf("segment %q accepted", seg)
		}
	}
	if _, _, err := parsePlaylist(strings.NewReader("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n#EXTINF:1,\na.ts\n"), "p"); err == nil {
		t.Error("encrypted playlist accepted")
	}
}
