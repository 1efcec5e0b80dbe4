package export

import (
	"bytes"
	"context"
	"io"

	"github.com/periscope-sunset/periscope-sunset/export/mp4dur"
)

// copyLearning is copyFrom, teaching the export what e's bytes say on the
// way (learnFrom).
func (p *partWriter) copyLearning(ctx context.Context, e entry, r io.Reader, name string) error {
	r, learnt := p.learnFrom(e, r)
	if err := p.copyFrom(ctx, e, r, name); err != nil {
		return err
	}
	return learnt()
}

// learnFrom returns r teed into whatever learns from e's bytes while they
// are copied into the zip, and the step to run once the copy is done: a
// chat becomes its WebVTT track and transcript, a replay gives its
// duration when broadcast.json has none. Learning on the way means no
// source object is read twice, on S3 as on disk.
func (p *partWriter) learnFrom(e entry, r io.Reader) (io.Reader, func() error) {
	b := e.Of
	switch {
	case b == nil:
	case e.Path == b.Chat && b.ChatTrack != "":
		t := p.newChatTrack(b, e)
		return io.TeeReader(r, t.conv), t.finish
	case e.Path == b.Replay && b.ReplayFormat == "hls" && b.DurationSeconds == 0 && e.Size <= maxPlaylist:
		// The playlist's #EXTINF sum; a remuxed replay.mp4 comes after it.
		var pl bytes.Buffer
		return io.TeeReader(r, &limitedWriter{w: &pl, n: maxPlaylist}), func() error {
			if _, d, err := parsePlaylist(&pl, e.Path); err == nil && d > 0 {
				b.DurationSeconds, b.DurationFrom = d, "media"
			}
			return nil
		}
	case e.Path == "data/broadcasts/"+b.ID+"/replay.mp4" && b.DurationSeconds == 0:
		// Only the movie header is read: a fragmented MP4, whose header
		// says 0, stays "duration unknown".
		var s mp4dur.Sniffer
		return io.TeeReader(r, &s), func() error {
			if d, ok := s.Duration(); ok {
				b.DurationSeconds, b.DurationFrom = d.Seconds(), "media"
			}
			return nil
		}
	}
	return r, func() error { return nil }
}

// limitedWriter keeps the first n bytes written to it and drops the rest,
// without failing the copy it listens to.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if k := min(int64(len(p)), l.n); k > 0 {
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
