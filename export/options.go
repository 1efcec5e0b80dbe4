package export

import (
	"log/slog"
	"runtime"
	"time"
)

// Options tune an export. The zero value of every field means "use the
// default", so callers set only what they mean.
type Options struct {
	// Workers is the number of users exported at once. Default: four per
	// CPU (the work waits on the network more than it computes), at least
	// 4, at most 256.
	Workers int
	// ShardIndex and ShardCount select this process's share of the users:
	// a user belongs to shard ShardOf(id, ShardCount). ShardCount 0 or 1
	// means one shard holding everyone.
	ShardIndex, ShardCount int
	// MaxPartSize splits a user's export into numbered zip parts of about
	// this many bytes each; 0 means one part. Files never span parts.
	MaxPartSize int64
	// Only, when not nil, restricts the run to these user ids.
	Only map[string]bool
	// ToolVersion is recorded in manifests and reports.
	ToolVersion string
	// RunID names this run's report; default: time + random suffix.
	RunID string
	// Progress receives progress events; default: none.
	Progress Progress
	// Log receives one line per notable event; default: discard.
	Log *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// SourceName and DestName describe the stores in the run report.
	SourceName, DestName string
	// Remux says what to do with HLS replays (default RemuxAuto), and
	// FFmpeg is the ffmpeg binary to do it with ("" means none: auto then
	// leaves HLS replays as they are).
	Remux  RemuxMode
	FFmpeg string
	// DrainTimeout is how long users already being exported may take to
	// finish once the run is told to stop (its context is cancelled)
	// before their uploads are aborted. Default 90s: AWS Batch gives a
	// Spot job about two minutes between SIGTERM and the end.
	DrainTimeout time.Duration
	// Attempts is how many times a user is tried before it is reported
	// failed; only transient errors (network, throttling, server errors)
	// are retried, never bad input. Default 3.
	Attempts int
	// RetryBackoff is the pause before a user's second attempt, doubled
	// for each further one, with jitter. Default 2s.
	RetryBackoff time.Duration
	// Strict fails a user on any omission (a broadcast or file that
	// cannot be exported safely) instead of exporting the rest with the
	// omissions recorded.
	Strict bool
	// ClaimTTL is the lifetime of the lease a worker holds on a user while
	// writing it (renewed every third of it). Short, so a user whose
	// worker died (a Spot reclaim) is free again soon. Default 1 minute.
	ClaimTTL time.Duration
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers()
	}
	if o.ShardCount <= 0 {
		o.ShardCount = 1
	}
	if o.ToolVersion == "" {
		o.ToolVersion = "dev"
	}
	if o.Progress == nil {
		o.Progress = NopProgress{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Remux == "" {
		o.Remux = RemuxAuto
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 90 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 2 * time.Second
	}
	if o.ClaimTTL <= 0 {
		o.ClaimTTL = time.Minute
	}
	if o.RunID == "" {
		o.RunID = NewRunID(o.Now(), o.ShardIndex, o.ShardCount)
	}
	return o
}

// DefaultWorkers is the worker count used when none is given.
func DefaultWorkers() int {
	return min(max(4, 4*runtime.NumCPU()), 256)
}
