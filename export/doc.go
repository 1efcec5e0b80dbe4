// Package export turns a live-video service's source archive into one
// verifiable, resumable export per user: streamed zip part(s) that together
// extract to a BagIt 1.0 bag (RFC 8493) with an offline viewer, followed by a
// manifest.json that marks the export complete.
//
// How work runs: Run streams users.jsonl and hands each user of this shard to
// a pool of workers (errgroup with SetLimit). A worker lists the user's
// broadcasts, compares the source fingerprint with any existing manifest to
// decide whether to skip, and otherwise streams every source object through
// SHA-256 into a zip writer whose output is piped straight into the
// destination store's Put. Nothing is staged on disk and no file is held in
// memory whole; the S3 store bounds the bytes in flight across all workers
// with one shared budget. One user's failure is recorded with its reason and
// never stops the others; Run ends with a *PartialError naming how many
// failed.
//
// Verify re-reads exports and checks every byte against manifest.json and
// the bag's own manifests.
//
// The export format is specified in docs/format/export.md, the source
// archive it reads in docs/format/source.md.
package export
