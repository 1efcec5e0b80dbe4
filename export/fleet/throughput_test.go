package fleet

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// BenchmarkExportThroughput is the benchmark behind DefaultThroughputPerVCPU:
// the project's own export of a generated archive (20 users, 3 broadcasts
// each, 8 MiB replays: 480 MiB) with the export's default workers, folder to
// folder and S3 to S3 through versitygw on loopback. It reports the bytes
// exported per second of wall time per vCPU (GOMAXPROCS). On S3 the server
// runs on the same cores, so the figure is low for the exporter and high
// for the network: neither TLS nor real latency is in it.
//
//	go test -run '^$' -bench ExportThroughput -benchtime 3x ./export/fleet/
func BenchmarkExportThroughput(b *testing.B) {
	opts := fixtures.Options{Users: 20, Broadcasts: 3, VideoBytes: 8 << 20, Seed: 1}
	b.Run("file", func(b *testing.B) {
		src := newFileStore(b)
		benchExport(b, src, opts, func(i int) blob.Store { return newFileStore(b) })
	})
	b.Run("s3", func(b *testing.B) {
		srv := s3test.Start(b)
		bucket := srv.NewBucket(b)
		cfg := blob.S3Config{Budget: blob.NewBudget(max(int64(runtime.NumCPU())*16<<20, 64<<20))}
		src := srv.StoreConfig(b, bucket, "source", cfg)
		benchExport(b, src, opts, func(i int) blob.Store {
			return srv.StoreConfig(b, bucket, fmt.Sprintf("export-%d", i), cfg)
		})
	})
}

func benchExport(b *testing.B, src blob.Store, opts fixtures.Options, dest func(int) blob.Store) {
	ctx := context.Background()
	st, err := fixtures.Generate(ctx, src, opts)
	if err != nil {
		b.Fatal(err)
	}
	var elapsed time.Duration
	b.SetBytes(st.Bytes)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		rep, err := export.Run(ctx, src, dest(i), export.Options{})
		elapsed += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Users.Exported != opts.Users {
			b.Fatalf("exported %d users, want %d", rep.Users.Exported, opts.Users)
		}
	}
	perVCPU := float64(st.Bytes) * float64(b.N) / elapsed.Seconds() / float64(runtime.GOMAXPROCS(0))
	b.ReportMetric(perVCPU/1e6, "MB/s/vCPU")
}

func newFileStore(b *testing.B) blob.Store {
	s, err := blob.NewFile(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return s
}
