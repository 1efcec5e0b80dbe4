package export

import (
	"sort"
	"strings"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// What a run costs in store requests, counted from the same rules the
// export follows, for planners (export/fleet) that must predict it without
// running it. Whoever changes which objects the export reads, or how often,
// changes the count here too; the planner test in cmd/periscope-sunset
// (TestPlanCountsTheRequestsOfARealExport) fails until they agree.

// bagFilesHint is what the last part's size hint adds for the generated
// files (profile, broadcasts.json, viewer, BagIt tag files): generous, as
// a hint should be.
const bagFilesHint = 64 << 10

// bagFilesEstimate is what those generated files and their zip headers
// really add, calibrated on fixtures/sample, whose users' zips are 3.2 to
// 6.5 KiB larger than their source objects; rounded up. It only decides
// estimates and, for a last part within a few KiB of an S3 part boundary,
// whether one more part is counted.
const bagFilesEstimate = 4 << 10

// RequestOptions are the export options that change a user's requests.
type RequestOptions struct {
	MaxPartSize int64 // Options.MaxPartSize
	// Remux: HLS replays are remuxed (Options.Remux is not never and
	// ffmpeg was found), which reads their playlist and segments twice.
	Remux bool
}

// UserRequests are the requests of one user's first export, in which no
// manifest, claim or earlier upload exists yet.
type UserRequests struct {
	SourceGet  int64 // GetObject of source objects
	SourceList int64 // ListObjectsV2 pages of broadcasts/<user>/
	DestGet    int64 // GetObject of manifest.json (absent: is the user done?)
	DestPut    int64 // single-request PutObject of zip parts and manifest.json
	Multipart  int64 // CreateMultipartUpload + CompleteMultipartUpload
	Parts      int64 // UploadPart
	Claims     int64 // the claim's conditional PutObject (renewals are by time: see ClaimRenewal)
	DestDelete int64 // the claim's release
	Bytes      int64 // estimated size of the zip parts
}

// FirstExportRequests counts the requests the first export of user uid
// makes, given the objects of its broadcasts/<uid>/ folder as one listing
// returns them. It follows planUser and write: one listing; per broadcast,
// broadcast.json read to plan and again to copy; every other object read
// once to copy; with remuxing, an HLS replay's playlist and every segment
// read once more to feed ffmpeg (the playlist is assumed to name each
// object of its hls/ folder, which the planner cannot know without reading
// it). A broadcast without broadcast.json reads nothing more.
func FirstExportRequests(uid string, objects []blob.Info, opts RequestOptions) UserRequests {
	r := UserRequests{SourceList: blob.ListRequests(int64(len(objects))), DestGet: 1, Claims: 1, DestDelete: 1}
	prefix := "broadcasts/" + uid + "/"
	byBroadcast := map[string][]blob.Info{}
	for _, o := range objects {
		bid, _, _ := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
		byBroadcast[bid] = append(byBroadcast[bid], o)
	}
	ids := make([]string, 0, len(byBroadcast))
	for id := range byBroadcast {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var media []entry
	for _, bid := range ids {
		bagDir := "data/broadcasts/" + bid + "/"
		meta, entries := broadcastEntries(prefix+bid+"/", bagDir, byBroadcast[bid])
		if meta == nil {
			continue
		}
		r.SourceGet++ // readBroadcast
		b := &Broadcast{ID: bid}
		describeMedia(b, bagDir, entries)
		if opts.Remux && b.ReplayFormat == "hls" {
			e := remuxEntry(b, entries)
			r.SourceGet += 1 + hlsSegments(entries) // readPlaylist, feedSegments
			entries = append(entries, e)
		}
		media = append(media, entries...)
	}
	for _, e := range media {
		if e.Remux == nil {
			r.SourceGet++ // copyEntry
		}
	}
	parts := splitParts(media, opts.MaxPartSize)
	for i, p := range parts {
		hint, size := sizeOf(p), sizeOf(p)
		if i == len(parts)-1 {
			hint, size = hint+bagFilesHint, size+bagFilesEstimate
		}
		put, mp, n := blob.UploadRequests(size, hint)
		r.DestPut += put
		r.Multipart += mp
		r.Parts += n
		r.Bytes += size
	}
	r.DestPut++ // manifest.json
	return r
}

// ShardRequests are the requests a run (one shard) makes once, whatever
// its users: users.jsonl read twice (countUsers, then exportAll) and the
// run report written (finish).
type ShardRequests struct {
	SourceGet int64
	Reports   int64
}

// RunRequests returns the per-run requests.
func RunRequests() ShardRequests { return ShardRequests{SourceGet: 2, Reports: 1} }

// broadcastEntries splits a broadcast folder's objects into its
// broadcast.json and the bag entries to copy, broadcast.json first.
func broadcastEntries(dir, bagDir string, files []blob.Info) (meta *blob.Info, media []entry) {
	for i := range files {
		rel := strings.TrimPrefix(files[i].Key, dir)
		if rel == "broadcast.json" {
			meta = &files[i]
			continue
		}
		media = append(media, entry{Path: bagDir + rel, Key: files[i].Key, Size: files[i].Size, ModTime: files[i].ModTime})
	}
	if meta != nil {
		media = append([]entry{{Path: bagDir + "broadcast.json", Key: meta.Key, Size: meta.Size, ModTime: meta.ModTime}}, media...)
	}
	return meta, media
}

// hlsSegments counts the objects of a broadcast's hls/ folder other than
// its playlist, as remuxEntry does when it sums their size.
func hlsSegments(media []entry) int64 {
	var n int64
	for _, e := range media {
		if strings.Contains(e.Path, "/hls/") && !strings.HasSuffix(e.Path, "/hls/playlist.m3u8") {
			n++
		}
	}
	return n
}
