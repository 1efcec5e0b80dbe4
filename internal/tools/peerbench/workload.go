package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// workload is one archive and what is measured on it.
type workload struct {
	Name  string
	About string
	Gen   fixtures.Options
	// Peers: a throughput workload, every tool in alternation. Otherwise a
	// memory workload: our export only, to the gateway and to a folder.
	Peers bool
}

var workloads = []workload{
	{Name: "large", Peers: true,
		About: "40 users x 5 broadcasts, 5 MiB replays: 801 files, about 1.05 GB",
		Gen:   fixtures.Options{Users: 40, Broadcasts: 5, VideoBytes: 5 << 20, Seed: 1}},
	{Name: "small", Peers: true,
		About: "1,500 users x 1 broadcast, 64 KiB replays (+ ~3 KiB thumbnail, ~0.2 KiB broadcast.json, ~0.3 KiB chat.jsonl): 6,001 files, about 104 MB",
		Gen:   fixtures.Options{Users: 1500, Broadcasts: 1, VideoBytes: 64 << 10, Seed: 1}},
	{Name: "mem-big",
		About: "1 user x 2 broadcasts, 2 GiB replays: one 4 GiB archive",
		Gen:   fixtures.Options{Users: 1, Broadcasts: 2, VideoBytes: 2 << 30, Seed: 1}},
	{Name: "mem-users",
		About: "100,000 users with no broadcasts: per-user memory only",
		Gen:   fixtures.Options{Users: 100_000, Broadcasts: 0, Seed: 1}},
}

func findWorkload(name string) (workload, bool) {
	for _, w := range workloads {
		if w.Name == name {
			return w, true
		}
	}
	return workload{}, false
}

// stamp records what a source folder was generated from, so --keep can
// reuse it on the next run.
type stamp struct {
	Options fixtures.Options
	Stats   fixtures.Stats
}

// ensureArchive generates the workload's archive into dir once; with a
// matching stamp from an earlier --keep run, it reuses it.
func ensureArchive(ctx context.Context, dir string, opts fixtures.Options, log io.Writer) (fixtures.Stats, error) {
	stampPath := dir + ".json"
	if b, err := os.ReadFile(stampPath); err == nil {
		var s stamp
		if json.Unmarshal(b, &s) == nil && s.Options == opts {
			fmt.Fprintf(log, "  reusing %s (%d files, %.1f MB)\n", dir, s.Stats.Files, float64(s.Stats.Bytes)/1e6)
			return s.Stats, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fixtures.Stats{}, err
	}
	os.Remove(stampPath)
	store, err := blob.NewFile(dir)
	if err != nil {
		return fixtures.Stats{}, err
	}
	start := time.Now()
	st, err := fixtures.Generate(ctx, store, opts)
	if err != nil {
		return st, err
	}
	syscall.Sync()
	fmt.Fprintf(log, "  generated %s: %d users, %d broadcasts, %d files, %.1f MB in %.1fs\n",
		dir, st.Users, st.Broadcasts, st.Files, float64(st.Bytes)/1e6, time.Since(start).Seconds())
	b, _ := json.Marshal(stamp{Options: opts, Stats: st})
	return st, os.WriteFile(stampPath, b, 0o644)
}

// runner runs one workload's measurements and collects the results.
type runner struct {
	*env
	w       workload
	src     string
	stats   fixtures.Stats
	log     io.Writer
	results []result
}

// record runs jobs, checks what they wrote to prefix of the bucket (or to
// the local folder localDest) and keeps the result.
func (r *runner) record(ctx context.Context, row string, ours bool, round int, jobs []job, prefix, localDest string) error {
	u, err := measure(ctx, jobs, r.gw.PID())
	if err != nil {
		return fmt.Errorf("%s %s round %d: %w", r.w.Name, row, round, err)
	}
	res := result{Workload: r.w.Name, Row: row, Ours: ours, Round: round, Bytes: r.stats.Bytes, U: u}
	if localDest != "" {
		res.Out, err = listLocal(localDest)
		if !r.cfg.keep {
			os.RemoveAll(localDest)
		}
	} else {
		res.Out, err = r.gw.List(ctx, r.bucket, prefix)
		if !r.cfg.keep {
			r.gw.RemovePrefix(r.bucket, prefix)
		}
	}
	syscall.Sync() // the next run must not pay for this one's writeback
	if err != nil {
		return fmt.Errorf("%s %s round %d: check output: %w", r.w.Name, row, round, err)
	}
	if err := r.check(res, ours); err != nil {
		return fmt.Errorf("%s %s round %d: %w", r.w.Name, row, round, err)
	}
	fmt.Fprintf(r.log, "  %-9s r%d  %-30s %7.2fs %8.1f MB/s  cpu %6.2fs (%5.2f s/GB)  rss %6.1f MiB  server cpu %6.2fs  %d objects\n",
		r.w.Name, round, row, u.Wall.Seconds(), res.mbps(), u.CPU().Seconds(), res.cpuPerGB(),
		float64(u.MaxRSSKiB)/1024, u.ServerCPU.Seconds(), res.Out.Objects)
	r.results = append(r.results, res)
	return nil
}

// check makes sure a run copied everything: every source file for a peer,
// a manifest (the completion marker) for every user for ours.
func (r *runner) check(res result, ours bool) error {
	if ours {
		if res.Out.Manifests != r.stats.Users {
			return fmt.Errorf("%d manifests written, want %d", res.Out.Manifests, r.stats.Users)
		}
		return nil
	}
	if res.Out.Objects != r.stats.Files || res.Out.Bytes != r.stats.Bytes {
		return fmt.Errorf("wrote %d objects, %d bytes; want %d, %d", res.Out.Objects, res.Out.Bytes, r.stats.Files, r.stats.Bytes)
	}
	return nil
}

func listLocal(dir string) (listing, error) {
	var l listing
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		l.Objects++
		l.Bytes += info.Size()
		if d.Name() == "manifest.json" {
			l.Manifests++
		}
		return nil
	})
	return l, err
}

// throughput alternates the tools, round after round (A B C A B C ...),
// each run into a fresh prefix, then scans our workers and shards.
func (r *runner) throughput(ctx context.Context) error {
	tools := selectTools(r.cfg)
	for round := 1; round <= r.cfg.rounds; round++ {
		for _, t := range tools {
			prefix := t.ID + "-" + strconv.Itoa(round)
			if err := r.record(ctx, t.Name, t.Ours, round, t.jobs(r.env, r.src, prefix), prefix, ""); err != nil {
				return err
			}
		}
	}
	if r.w.Name != "large" {
		return nil
	}
	for round := 1; round <= r.cfg.rounds && len(r.cfg.scanWorkers) > 0; round++ {
		for _, n := range r.cfg.scanWorkers {
			prefix := fmt.Sprintf("workers-%d-%d", n, round)
			j := r.ours(r.src, "s3://"+r.bucket+"/"+prefix, n)
			if err := r.record(ctx, fmt.Sprintf("periscope-sunset (--workers %d)", n), true, round, []job{j}, prefix, ""); err != nil {
				return err
			}
		}
	}
	for round := 1; round <= r.cfg.rounds && len(r.cfg.scanShards) > 0; round++ {
		for _, k := range r.cfg.scanShards {
			prefix := fmt.Sprintf("shards-%d-%d", k, round)
			var jobs []job
			for i := range k {
				jobs = append(jobs, r.ours(r.src, "s3://"+r.bucket+"/"+prefix, 0,
					"--shard-index", strconv.Itoa(i), "--shard-count", strconv.Itoa(k)))
			}
			if err := r.record(ctx, fmt.Sprintf("periscope-sunset (%d instances)", k), true, round, jobs, prefix, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// memory exports the archive with ours only, to the gateway and to a local
// folder, for peak RSS.
func (r *runner) memory(ctx context.Context) error {
	for round := 1; round <= r.cfg.memRounds; round++ {
		prefix := "ours-" + strconv.Itoa(round)
		j := r.ours(r.src, "s3://"+r.bucket+"/"+prefix, 0, r.profileArgs(r.w.Name+"-s3-"+strconv.Itoa(round))...)
		if err := r.record(ctx, "periscope-sunset (to S3)", true, round, []job{j}, prefix, ""); err != nil {
			return err
		}
		local := filepath.Join(r.work, "local-"+strconv.Itoa(round))
		j = r.ours(r.src, local, 0, r.profileArgs(r.w.Name+"-local-"+strconv.Itoa(round))...)
		if err := r.record(ctx, "periscope-sunset (to a folder)", true, round, []job{j}, "", local); err != nil {
			return err
		}
	}
	return nil
}

func selectTools(cfg *config) []tool {
	var out []tool
	for _, t := range peerTools(cfg) {
		if cfg.tools[t.ID] {
			out = append(out, t)
		}
	}
	return out
}
