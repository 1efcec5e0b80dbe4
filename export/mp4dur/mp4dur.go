// Package mp4dur finds an MP4's duration in its bytes as they stream past,
// from the movie header box (moov/mvhd, ISO/IEC 14496-12 8.2.2).
//
// The export already reads every replay once to copy it into the zip; a
// Sniffer teed into that copy learns the duration for free, whatever the
// store (an S3 object would need a second read, or a local file, for
// ffprobe). It skips media data without buffering it and keeps at most
// maxMoovHead bytes of the moov box, wherever the box lies in the file.
package mp4dur

import (
	"encoding/binary"
	"time"
)

// maxMoovHead is how much of the moov box is kept to look for mvhd, which
// muxers write first or nearly first in it.
const maxMoovHead = 64 << 10

// maxDuration rejects durations no replay has (a year): corrupt headers.
const maxDuration = 365 * 24 * time.Hour

// Sniffer is an io.Writer that never fails; Duration reports what it found.
type Sniffer struct {
	hdr  []byte // the box header being read
	skip uint64 // bytes of the current box still to skip
	moov []byte // the head of the moov box, once found
	need int    // bytes of moov still wanted in moov
	done bool
	dur  time.Duration
}

// Write consumes p; it always returns len(p), nil.
func (s *Sniffer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && !s.done {
		switch {
		case s.skip > 0:
			k := min(s.skip, uint64(len(p)))
			s.skip -= k
			p = p[k:]
		case s.need > 0:
			k := min(s.need, len(p))
			s.moov = append(s.moov, p[:k]...)
			s.need -= k
			p = p[k:]
			if s.need == 0 {
				s.dur, s.done = findMvhd(s.moov), true
			}
		default:
			p = s.readHeader(p)
		}
	}
	return n, nil
}

// Duration is the movie's duration, or false when none was found (not an
// MP4, a fragmented MP4 whose header says 0, or a file cut short).
func (s *Sniffer) Duration() (time.Duration, bool) { return s.dur, s.dur > 0 }

// readHeader accumulates a top-level box header and decides what to do
// with the box's body.
func (s *Sniffer) readHeader(p []byte) []byte {
	want := 8
	if len(s.hdr) >= 8 && binary.BigEndian.Uint32(s.hdr) == 1 {
		want = 16 // 64-bit size follows the type
	}
	k := min(want-len(s.hdr), len(p))
	s.hdr = append(s.hdr, p[:k]...)
	p = p[k:]
	if len(s.hdr) < want {
		return p
	}
	if want == 8 && binary.BigEndian.Uint32(s.hdr) == 1 {
		return p // read the 64-bit size next
	}
	size, typ := uint64(binary.BigEndian.Uint32(s.hdr)), string(s.hdr[4:8])
	if want == 16 {
		size = binary.BigEndian.Uint64(s.hdr[8:16])
	}
	s.hdr = s.hdr[:0]
	switch {
	case size == 0 || size < uint64(want): // "to the end of the file", or corrupt
		s.done = true
	case typ == "moov":
		s.need = int(min(size-uint64(want), maxMoovHead))
		if s.need == 0 {
			s.done = true
		}
	default:
		s.skip = size - uint64(want)
	}
	return p
}

// findMvhd reads the duration from the mvhd box among moov's children.
func findMvhd(b []byte) time.Duration {
	for len(b) >= 8 {
		size := uint64(binary.BigEndian.Uint32(b))
		if size < 8 || size > uint64(len(b)) {
			return 0
		}
		if string(b[4:8]) == "mvhd" {
			return mvhdDuration(b[8:size])
		}
		b = b[size:]
	}
	return 0
}

// mvhdDuration decodes version 0 (32-bit times) or 1 (64-bit) of mvhd.
func mvhdDuration(b []byte) time.Duration {
	var scale, units uint64
	switch {
	case len(b) >= 20 && b[0] == 0:
		scale, units = uint64(binary.BigEndian.Uint32(b[12:])), uint64(binary.BigEndian.Uint32(b[16:]))
		if units == 0xFFFFFFFF {
			return 0 // "unknown"
		}
	case len(b) >= 32 && b[0] == 1:
		scale, units = uint64(binary.BigEndian.Uint32(b[20:])), binary.BigEndian.Uint64(b[24:])
	default:
		return 0
	}
	if scale == 0 || units/scale > uint64(maxDuration/time.Second) {
		return 0
	}
	return time.Duration(units/scale)*time.Second + time.Duration(units%scale)*time.Second/time.Duration(scale)
}
