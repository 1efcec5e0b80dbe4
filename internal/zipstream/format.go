package zipstream

import (
	"encoding/binary"
	"time"
)

// Record layouts and constants of PKWARE's APPNOTE 6.3.10.
const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigEnd        = 0x06054b50
	sigEnd64      = 0x06064b50
	sigLocator64  = 0x07064b50
	methodStore   = 0
	methodDeflate = 8
	flagUTF8      = 1 << 11
	version20     = 20 // deflate (4.4.3.2)
	version45     = 45 // zip64 (4.4.3.2)
	creatorUnix   = 3 << 8
	zip64ExtraID  = 0x0001
	max16         = 0xffff
	max32         = 0xffffffff
	localLen      = 30
	centralLen    = 46
	end64Len      = 56
	locator64Len  = 20
	endLen        = 22
	crcOffset     = 14 // of the CRC-32 in a local header
	// unixFile is a regular file, rw-r--r--, in the external attributes'
	// high half (as Info-ZIP writes them on Unix).
	unixFile = 0o100644 << 16
)

var le = binary.LittleEndian

// record is one entry's central directory record, kept until Close.
type record struct {
	name             string
	method           uint16
	crc              uint32
	csize, usize     uint64
	offset           uint64
	dosDate, dosTime uint16
}

// zip64 reports whether the entry needs zip64 fields: a size or its
// offset at or past 4 GiB (0xffffffff itself means "see zip64").
func (r *record) zip64() bool {
	return r.csize >= max32 || r.usize >= max32 || r.offset >= max32
}

func (r *record) version() uint16 {
	if r.zip64() {
		return version45
	}
	return version20
}

func (r *record) flags() uint16 {
	for i := 0; i < len(r.name); i++ {
		if r.name[i] >= 0x80 {
			return flagUTF8
		}
	}
	return 0
}

// localHeader encodes the local header. A zip64 entry's header holds both
// sizes in its zip64 extra field, the 32-bit fields set to 0xffffffff
// (APPNOTE 4.5.3: the local header's zip64 record has both sizes).
func (r *record) localHeader() []byte {
	extra := 0
	if r.zip64() {
		extra = 4 + 16
	}
	b := make([]byte, 0, localLen+len(r.name)+extra)
	b = le.AppendUint32(b, sigLocal)
	b = le.AppendUint16(b, r.version())
	b = le.AppendUint16(b, r.flags())
	b = le.AppendUint16(b, r.method)
	b = le.AppendUint16(b, r.dosTime)
	b = le.AppendUint16(b, r.dosDate)
	b = le.AppendUint32(b, r.crc)
	if r.zip64() {
		b = le.AppendUint32(b, max32)
		b = le.AppendUint32(b, max32)
	} else {
		b = le.AppendUint32(b, uint32(r.csize))
		b = le.AppendUint32(b, uint32(r.usize))
	}
	b = le.AppendUint16(b, uint16(len(r.name)))
	b = le.AppendUint16(b, uint16(extra))
	b = append(b, r.name...)
	if r.zip64() {
		b = le.AppendUint16(b, zip64ExtraID)
		b = le.AppendUint16(b, 16)
		b = le.AppendUint64(b, r.usize)
		b = le.AppendUint64(b, r.csize)
	}
	return b
}

// appendCentral appends the central directory record. A zip64 entry puts
// both sizes and its offset in the zip64 extra field, as archive/zip does,
// so the central record agrees with the local one.
func (r *record) appendCentral(b []byte) []byte {
	csize, usize, offset := uint32(r.csize), uint32(r.usize), uint32(r.offset)
	extra := 0
	if r.zip64() {
		csize, usize, offset = max32, max32, max32
		extra = 4 + 24
	}
	b = le.AppendUint32(b, sigCentral)
	b = le.AppendUint16(b, creatorUnix|version45)
	b = le.AppendUint16(b, r.version())
	b = le.AppendUint16(b, r.flags())
	b = le.AppendUint16(b, r.method)
	b = le.AppendUint16(b, r.dosTime)
	b = le.AppendUint16(b, r.dosDate)
	b = le.AppendUint32(b, r.crc)
	b = le.AppendUint32(b, csize)
	b = le.AppendUint32(b, usize)
	b = le.AppendUint16(b, uint16(len(r.name)))
	b = le.AppendUint16(b, uint16(extra))
	b = le.AppendUint16(b, 0) // comment length
	b = le.AppendUint16(b, 0) // disk number start
	b = le.AppendUint16(b, 0) // internal attributes
	b = le.AppendUint32(b, unixFile)
	b = le.AppendUint32(b, offset)
	b = append(b, r.name...)
	if r.zip64() {
		b = le.AppendUint16(b, zip64ExtraID)
		b = le.AppendUint16(b, 24)
		b = le.AppendUint64(b, r.usize)
		b = le.AppendUint64(b, r.csize)
		b = le.AppendUint64(b, r.offset)
	}
	return b
}

// endRecords encodes the end of the archive: the zip64 end record and its
// locator when a count or offset does not fit the classic record, then the
// classic end record with those fields at their "see zip64" maximum.
func endRecords(count, cdStart, cdSize uint64) []byte {
	b := make([]byte, 0, end64Len+locator64Len+endLen)
	need64 := count >= max16 || cdStart >= max32 || cdSize >= max32
	if need64 {
		end64 := cdStart + cdSize
		b = le.AppendUint32(b, sigEnd64)
		b = le.AppendUint64(b, end64Len-12) // size of the rest of the record
		b = le.AppendUint16(b, creatorUnix|version45)
		b = le.AppendUint16(b, version45)
		b = le.AppendUint32(b, 0) // this disk
		b = le.AppendUint32(b, 0) // disk of the central directory
		b = le.AppendUint64(b, count)
		b = le.AppendUint64(b, count)
		b = le.AppendUint64(b, cdSize)
		b = le.AppendUint64(b, cdStart)
		b = le.AppendUint32(b, sigLocator64)
		b = le.AppendUint32(b, 0) // disk of the zip64 end record
		b = le.AppendUint64(b, end64)
		b = le.AppendUint32(b, 1) // total disks
		count, cdStart, cdSize = min(count, max16), min(cdStart, max32), min(cdSize, max32)
	}
	b = le.AppendUint32(b, sigEnd)
	b = le.AppendUint16(b, 0) // this disk
	b = le.AppendUint16(b, 0) // disk of the central directory
	b = le.AppendUint16(b, uint16(count))
	b = le.AppendUint16(b, uint16(count))
	b = le.AppendUint32(b, uint32(cdSize))
	b = le.AppendUint32(b, uint32(cdStart))
	b = le.AppendUint16(b, 0) // comment length
	return b
}

// dosTime encodes t in MS-DOS date and time (2-second resolution, years
// 1980 to 2107), clamped to that range.
func dosTime(t time.Time) (date, tm uint16) {
	t = t.UTC()
	switch {
	case t.Year() < 1980:
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	case t.Year() > 2107:
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}
