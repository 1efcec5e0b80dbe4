package export

import (
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// The count follows the export's rules on a listing it can work out by
// hand; that it matches what a real export sends is checked, class by
// class, by TestPlanCountsTheRequestsOfARealExport in cmd/periscope-sunset.
func TestFirstExportRequests(t *testing.T) {
	const mib = 1 << 20
	objects := []blob.Info{ // as a listing returns them: lexical order
		{Key: "broadcasts/u1/b1/broadcast.json", Size: 300},
		{Key: "broadcasts/u1/b1/chat.jsonl", Size: 2000},
		{Key: "broadcasts/u1/b1/replay.mp4", Size: 9 * mib},
		{Key: "broadcasts/u1/b1/thumbnail.jpg", Size: 5000},
		{Key: "broadcasts/u1/b2/broadcast.json", Size: 300},
		{Key: "broadcasts/u1/b2/hls/playlist.m3u8", Size: 200},
		{Key: "broadcasts/u1/b2/hls/seg0.ts", Size: 40000},
		{Key: "broadcasts/u1/b2/hls/seg1.ts", Size: 40000},
		{Key: "broadcasts/u1/b2/hls/seg2.ts", Size: 40000},
		{Key: "broadcasts/u1/b3/replay.mp4", Size: 1000}, // no broadcast.json: not exported
	}
	for _, tc := range []struct {
		name string
		opts RequestOptions
		want UserRequests
	}{
		{
			// 9 broadcast objects read once, 2 broadcast.json read twice;
			// one 9 MiB zip: two 8 MiB-part UploadParts.
			name: "one part, no remuxing",
			want: UserRequests{SourceGet: 11, SourceList: 1, DestGet: 1, DestPut: 1, Multipart: 2, Parts: 2,
				Claims: 1, DestDelete: 1},
		},
		{
			// Remuxing b2 reads its playlist and three segments again.
			name: "one part, remuxing",
			opts: RequestOptions{Remux: true},
			want: UserRequests{SourceGet: 15, SourceList: 1, DestGet: 1, DestPut: 1, Multipart: 2, Parts: 2,
				Claims: 1, DestDelete: 1},
		},
		{
			// 1 MiB zips: b1's broadcast.json and chat; the replay alone
			// (a multipart upload of two parts); the thumbnail and all of
			// b2, its remuxed MP4 included. Two PutObjects and manifest.json.
			name: "1 MiB zip parts",
			opts: RequestOptions{Remux: true, MaxPartSize: mib},
			want: UserRequests{SourceGet: 15, SourceList: 1, DestGet: 1, DestPut: 3, Multipart: 2, Parts: 2,
				Claims: 1, DestDelete: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FirstExportRequests("u1", objects, tc.opts)
			if got.Bytes < 9*mib+127_000 {
				t.Errorf("estimated %d bytes, less than the source", got.Bytes)
			}
			got.Bytes = 0
			if got != tc.want {
				t.Errorf("requests\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	empty := FirstExportRequests("u2", nil, RequestOptions{})
	want := UserRequests{SourceList: 1, DestGet: 1, DestPut: 2, Claims: 1, DestDelete: 1, Bytes: bagFilesEstimate}
	if empty != want {
		t.Errorf("a user without broadcasts:\n got %+v\nwant %+v", empty, want)
	}
}
