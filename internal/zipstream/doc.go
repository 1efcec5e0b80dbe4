// Package zipstream writes zip archives that streaming readers can read
// from the first byte to the last, as well as readers that start from the
// central directory.
//
// Layout (PKWARE APPNOTE 6.3.10): for every entry a local header, then its
// data; then the central directory, a zip64 end of central directory record
// and locator when needed (65,535 entries or more, or the directory at or
// past 4 GiB), and the end of central directory record.
//
// Why not archive/zip: a streamed entry there has a data descriptor
// (general purpose bit 3) after its data, because the CRC-32 is only known
// once the data has gone by. Streaming readers must then find the end of a
// STORED entry without knowing its size: Java's ZipInputStream refuses such
// entries, and bsdtar reading standard input cannot read one of 4 GiB or
// more, whose local header has no zip64 field. Here every local header is
// complete:
//
//   - stored entries (media, streamed once from their source) announce their
//     size up front; the header goes out with a zero CRC-32 and stays held
//     in the destination (Dest.Hold) until the data has gone by, then the
//     real CRC-32 is patched in (Dest.Patch) and the bytes released;
//   - deflated entries (JSON, HTML, chat: small, generated or read whole)
//     are compressed in memory first, so their header is written whole;
//   - an entry of 4 GiB or more, or one whose header starts at or past
//     4 GiB, carries a zip64 extra field in its local header holding both
//     sizes (APPNOTE 4.5.3) and says version 4.5 needed (4.4.3.2); every
//     other entry says 2.0;
//   - names that are not ASCII set the UTF-8 flag (bit 11).
//
// No entry has a data descriptor, so no reader has to guess where one ends.
// A Writer is not safe for concurrent use; write one archive per Writer.
package zipstream
