// Package fleet sizes an export fleet before anyone pays for it: it reads a
// source archive's catalog (users.jsonl and the object listing under
// broadcasts/, never the media itself), then recommends how many shards to
// run, on which Graviton instance size, with how many workers, how long the
// run will take and how many S3 requests it will make, explaining each
// figure.
//
// How it runs: Scan streams users.jsonl through export.ReadUsers and makes
// one List of broadcasts/ for the whole source (S3 returns keys in lexical
// order, so a user's objects arrive together, 1,000 keys per request, far
// fewer requests than one List per user). It keeps one small record per user
// folder, so memory grows with the number of users who have broadcasts, not
// with bytes. What each user's first export will request is counted as its
// objects stream by, by the export's own rules (export.FirstExportRequests,
// which follow the S3 store's upload rule, blob.UploadRequests), so the
// plan needs the export's --max-part-size and --remux before it scans.
// Recommend is pure arithmetic on that catalog: it assigns users
// to shards with export.ShardOf, exactly as the export will, so the
// estimate accounts for uneven shards and for the single largest user, who
// is always exported by one worker. Nothing runs in parallel here: the scan
// is bound by the listing, which S3 pages one after another anyway.
package fleet
