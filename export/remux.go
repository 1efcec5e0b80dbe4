package export

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
)

// RemuxMode says what to do with HLS replays (a playlist of MPEG-TS
// segments), which browsers cannot play from disk.
type RemuxMode string

const (
	// RemuxAuto remuxes HLS replays into MP4 when ffmpeg is available and
	// leaves them as HLS, with a warning, when it is not or when it fails.
	RemuxAuto RemuxMode = "auto"
	// RemuxNever keeps HLS replays as they are.
	RemuxNever RemuxMode = "never"
	// RemuxRequire fails the user whose HLS replay cannot be remuxed.
	RemuxRequire RemuxMode = "require"
)

// maxPlaylist bounds the playlist read into memory.
const maxPlaylist = 4 << 20

// hlsSource is an HLS replay to remux: its playlist and segment keys.
type hlsSource struct {
	Playlist  string // source key of playlist.m3u8
	Dir       string // source key prefix of the hls/ folder
	Broadcast *Broadcast
	Duration  float64 // sum of #EXTINF, seconds
}

// remuxer turns HLS replays into MP4 with ffmpeg, copying the streams
// (-c copy: no re-encoding, so it costs I/O, not CPU). The segments are
// concatenated into ffmpeg's stdin, so the source can be S3; the output
// goes to a temporary file because an MP4 that browsers can seek (moov
// first, +faststart) needs a seekable output; it is removed once copied
// into the zip.
type remuxer struct {
	ffmpeg string
	mode   RemuxMode
}

func (m remuxer) enabled() bool { return m.ffmpeg != "" && m.mode != RemuxNever }

// remux writes the MP4 for h into a temporary file and returns it, opened
// and rewound; the caller closes and removes it.
func (m remuxer) remux(ctx context.Context, p *partWriter, h *hlsSource) (*os.File, error) {
	segments, dur, err := readPlaylist(ctx, p.src, h.Playlist)
	if err != nil {
		return nil, err
	}
	h.Duration = dur
	out, err := os.CreateTemp("", "periscope-remux-*.mp4")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*os.File, error) {
		out.Close()
		os.Remove(out.Name())
		return nil, err
	}
	cmd := exec.CommandContext(ctx, m.ffmpeg, "-hide_banner", "-loglevel", "error",
		"-f", "mpegts", "-i", "pipe:0", "-map", "0:v?", "-map", "0:a?", "-c", "copy",
		"-bsf:a", "aac_adtstoasc", "-movflags", "+faststart", "-f", "mp4", "-y", out.Name())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fail(err)
	}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("start ffmpeg: %w", err))
	}
	feedErr := feedSegments(ctx, p, h.Dir, segments, stdin)
	stdin.Close()
	waitErr := cmd.Wait()
	switch {
	case feedErr != nil:
		return fail(feedErr)
	case waitErr != nil:
		return fail(fmt.Errorf("ffmpeg: %v: %s", waitErr, strings.TrimSpace(stderr.String())))
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return out, nil
}

// feedSegments streams the segments, in playlist order, into w.
func feedSegments(ctx context.Context, p *partWriter, dir string, segments []string, w io.Writer) error {
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	for _, seg := range segments {
		rc, err := p.src.Get(ctx, dir+seg)
		if err != nil {
			return fmt.Errorf("read %s%s: %w", dir, seg, err)
		}
		_, err = io.CopyBuffer(w, ctxReader{ctx, rc}, *bufp)
		rc.Close()
		if err != nil {
			return fmt.Errorf("feed %s%s to ffmpeg: %w", dir, seg, err)
		}
	}
	return nil
}

// readPlaylist reads a media playlist and returns its segment names and
// total duration. Only plain file names in the playlist's own folder are
// accepted: a URI with a scheme, a slash or ".." would read outside it.
func readPlaylist(ctx context.Context, src interface {
	Get(context.Context, string) (io.ReadCloser, error)
}, key string) ([]string, float64, error) {
	rc, err := src.Get(ctx, key)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	return parsePlaylist(io.LimitReader(rc, maxPlaylist), key)
}

func parsePlaylist(r io.Reader, name string) ([]string, float64, error) {
	var segs []string
	var dur float64
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-STREAM-INF"):
			return nil, 0, fmt.Errorf("%s: a master playlist; only media playlists can be remuxed", name)
		case strings.HasPrefix(line, "#EXT-X-KEY") && !strings.Contains(line, "METHOD=NONE"):
			return nil, 0, fmt.Errorf("%s line %d: encrypted segments cannot be remuxed", name, n)
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			d, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || d < 0 {
				return nil, 0, fmt.Errorf("%s line %d: bad #EXTINF %q", name, n, v)
			}
			dur += d
		case strings.HasPrefix(line, "#"):
		default:
			if strings.Contains(line, "/") || strings.Contains(line, `\`) || strings.Contains(line, ":") ||
				line == "." || line == ".." || cleanRelPath(line) != nil {
				return nil, 0, fmt.Errorf("%s line %d: segment %q is not a file name in the playlist's folder", name, n, line)
			}
			segs = append(segs, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", name, err)
	}
	if len(segs) == 0 {
		return nil, 0, fmt.Errorf("%s: no segments", name)
	}
	return segs, dur, nil
}

// hlsDir is the source key prefix of a playlist's folder.
func hlsDir(playlistKey string) string { return path.Dir(playlistKey) + "/" }
