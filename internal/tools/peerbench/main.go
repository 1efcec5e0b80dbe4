// Command peerbench measures `periscope-sunset export` side by side with
// the tools ops would otherwise reach for to copy the same files to S3:
// rclone (`rclone copy`) and the AWS CLI v2 (`aws s3 cp --recursive`).
//
// For each workload it generates the archive once (fixtures.Generate),
// starts the S3 server the tests use (versitygw, posix backend, loopback,
// random credentials; with --keep-alive, as Amazon S3 keeps connections
// open, and its folder on tmpfs when it fits, so the host disk's writeback
// stalls do not land on whichever tool runs next: see --server-keep-alive
// and --server-dir), makes one bucket, and runs the tools alternately
// (A B C A B C ...), each run into a fresh prefix. Every run is a direct
// child process, so wait4's rusage gives its CPU (user+sys) and peak RSS;
// its output is listed back and checked before the run counts. It prints
// per tool the median wall time, MB/s, CPU seconds per GB and peak RSS,
// and our ratios against each peer.
//
//	go run ./internal/tools/peerbench --workloads large,small --rounds 3
//
// scripts/bench-peers installs the peers and versitygw first.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
)

type config struct {
	workloads   []workload
	rounds      int
	memRounds   int
	keep        bool
	dir         string
	bin         string
	versitygw   string
	rcloneBin   string
	awsBin      string
	tools       map[string]bool
	workers     int
	scanWorkers []int
	scanShards  []int
	profileDir  string
	markdown    string
	serverDir   string
	keepAlive   bool
}

// effectiveWorkers is the worker count our export runs with.
func (c *config) effectiveWorkers() int {
	if c.workers > 0 {
		return c.workers
	}
	return export.DefaultWorkers()
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	var names []string
	for _, w := range workloads {
		names = append(names, w.Name)
	}
	wl := fs.String("workloads", "large,small", "comma-separated workloads: "+strings.Join(names, ", "))
	cfg := &config{}
	fs.IntVar(&cfg.rounds, "rounds", 3, "alternating rounds per throughput workload (the median is reported)")
	fs.IntVar(&cfg.memRounds, "mem-rounds", 1, "runs per memory workload (mem-big, mem-users)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the generated archives (reused by the next --keep run), the exports and the gateway's folder")
	fs.StringVar(&cfg.dir, "dir", "", "work folder for archives and the gateway (default: a new folder under $TMPDIR)")
	fs.StringVar(&cfg.bin, "bin", "", "periscope-sunset binary to measure (default: go build ./cmd/periscope-sunset)")
	tl := fs.String("tools", "ours,rclone,rclone-wide,aws", "tools to run: ours, rclone (default flags), rclone-wide (--transfers = our workers), aws; also rclone-stock (see tools.go)")
	fs.IntVar(&cfg.workers, "workers", 0, "our --workers (default: the binary's default, "+strconv.Itoa(export.DefaultWorkers())+" here)")
	sw := fs.String("scan-workers", "", "also run ours on the large workload with each of these --workers, e.g. 1,2,4,8")
	ss := fs.String("scan-shards", "", "also run ours on the large workload as this many concurrent shard processes, e.g. 1,2")
	fs.StringVar(&cfg.profileDir, "profile", "", "pass --cpuprofile/--memprofile into this folder to our runs")
	fs.StringVar(&cfg.markdown, "markdown", "", "also write the tables as markdown to this file")
	fs.BoolVar(&cfg.keepAlive, "server-keep-alive", true, "start versitygw with --keep-alive, as Amazon S3 keeps connections open (false: versitygw's default, a new connection per request)")
	fs.StringVar(&cfg.serverDir, "server-dir", "auto", "where the S3 server keeps objects: a folder, disk (the work folder) or auto (tmpfs /dev/shm when it has room, so the virtual disk's writeback does not add noise to every tool's figures)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, n := range splitList(*wl) {
		w, ok := findWorkload(n)
		if !ok {
			return nil, fmt.Errorf("--workloads: unknown workload %q (have %s)", n, strings.Join(names, ", "))
		}
		cfg.workloads = append(cfg.workloads, w)
	}
	cfg.tools = map[string]bool{}
	known := map[string]bool{}
	for _, t := range peerTools(cfg) {
		known[t.ID] = true
	}
	for _, t := range splitList(*tl) {
		if !known[t] {
			return nil, fmt.Errorf("--tools: unknown tool %q", t)
		}
		cfg.tools[t] = true
	}
	if !cfg.tools["ours"] {
		return nil, fmt.Errorf("--tools must include ours")
	}
	var err error
	if cfg.scanWorkers, err = intList(*sw); err != nil {
		return nil, fmt.Errorf("--scan-workers: %w", err)
	}
	if cfg.scanShards, err = intList(*ss); err != nil {
		return nil, fmt.Errorf("--scan-shards: %w", err)
	}
	if cfg.rounds < 1 || cfg.memRounds < 1 {
		return nil, fmt.Errorf("--rounds and --mem-rounds must be at least 1")
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func run(ctx context.Context, cfg *config, out io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := findTools(ctx, cfg, root); err != nil {
		return err
	}
	if cfg.dir == "" {
		if cfg.dir, err = os.MkdirTemp("", "peerbench-"); err != nil {
			return err
		}
		if !cfg.keep {
			defer os.RemoveAll(cfg.dir)
		}
	}
	if cfg.dir, err = filepath.Abs(cfg.dir); err != nil {
		return err
	}
	if cfg.bin == "" {
		cfg.bin = filepath.Join(cfg.dir, "periscope-sunset")
		if err := buildOurs(ctx, root, cfg.bin); err != nil {
			return err
		}
	}
	if cfg.profileDir != "" {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return err
		}
	}
	printSetup(ctx, cfg, out)
	var all []result
	for _, w := range cfg.workloads {
		rs, err := runWorkload(ctx, cfg, w, out)
		all = append(all, rs...)
		if err != nil {
			printTables(cfg, all, out)
			return err
		}
	}
	return printTables(cfg, all, out)
}

func findTools(ctx context.Context, cfg *config, root string) error {
	var err error
	if cfg.versitygw, err = findVersitygw(root); err != nil {
		return err
	}
	if cfg.tools["rclone"] || cfg.tools["rclone-wide"] || cfg.tools["rclone-stock"] {
		if cfg.rcloneBin, err = findRclone(); err != nil {
			return err
		}
	}
	if cfg.tools["aws"] {
		if cfg.awsBin, err = findAWS(ctx); err != nil {
			return err
		}
	}
	return nil
}

func printSetup(ctx context.Context, cfg *config, out io.Writer) {
	fmt.Fprintf(out, "peerbench %s: %d CPUs (%s/%s), %s\n", time.Now().UTC().Format(time.RFC3339),
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(out, "  ours:      %s (--workers %d), tree %s\n", cfg.bin, cfg.effectiveWorkers(), treeState(ctx))
	fmt.Fprintf(out, "  server:    %s (%s)\n", cfg.versitygw, goModVersion(ctx, cfg.versitygw))
	if cfg.rcloneBin != "" {
		fmt.Fprintf(out, "  rclone:    %s (%s)\n", cfg.rcloneBin, toolVersion(ctx, cfg.rcloneBin, "version"))
	}
	if cfg.awsBin != "" {
		fmt.Fprintf(out, "  aws:       %s (%s)\n", cfg.awsBin, toolVersion(ctx, cfg.awsBin, "--version"))
	}
	fmt.Fprintf(out, "  work dir:  %s\n", cfg.dir)
}

func runWorkload(ctx context.Context, cfg *config, w workload, out io.Writer) ([]result, error) {
	fmt.Fprintf(out, "\nworkload %s: %s\n", w.Name, w.About)
	work := filepath.Join(cfg.dir, w.Name)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	src := filepath.Join(work, "source")
	stats, err := ensureArchive(ctx, src, w.Gen, out)
	if err != nil {
		return nil, err
	}
	if !cfg.keep {
		defer os.RemoveAll(work)
	}
	gwDir, cleanup, err := serverDir(cfg, w, stats.Bytes, work)
	if err != nil {
		return nil, err
	}
	if !cfg.keep {
		defer cleanup()
	}
	gw, err := startGateway(cfg.versitygw, gwDir, filepath.Join(work, "versitygw.log"), cfg.keepAlive)
	if err != nil {
		return nil, err
	}
	defer gw.Stop()
	const bucket = "peerbench"
	if err := gw.CreateBucket(ctx, bucket); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	fmt.Fprintf(out, "  versitygw on %s (keep-alive %v), bucket %s, objects in %s\n", gw.Endpoint, cfg.keepAlive, bucket, gwDir)
	r := &runner{env: &env{cfg: cfg, gw: gw, bucket: bucket, work: work, name: w.Name},
		w: w, src: src, stats: stats, log: out}
	if w.Peers {
		err = r.throughput(ctx)
	} else {
		err = r.memory(ctx)
	}
	return r.results, err
}

func printTables(cfg *config, rs []result, out io.Writer) error {
	if len(rs) == 0 {
		return nil
	}
	ts := tables(rs, cfg.rounds)
	for _, t := range ts {
		t.text(out)
	}
	if cfg.markdown == "" {
		return nil
	}
	f, err := os.Create(cfg.markdown)
	if err != nil {
		return err
	}
	for _, t := range ts {
		t.markdown(f)
	}
	return f.Close()
}

// treeState names the commit being measured, and whether the engine's
// files differ from it (read-only git commands; "?" outside a checkout).
func treeState(ctx context.Context) string {
	rev := toolVersion(ctx, "git", "rev-parse", "--short", "HEAD")
	dirty := toolVersion(ctx, "git", "status", "--porcelain", "--untracked-files=no", "--", "export", "internal/blob", "cmd")
	if dirty != "" && dirty != "?" {
		rev += " + uncommitted changes"
	}
	return rev
}

// serverDir picks and empties the gateway's folder for a workload. Every
// tool writes to the same server, so where it keeps objects is no tool's
// advantage; tmpfs only takes the host disk's writeback stalls out of the
// wall times. A workload that could not fit (a run writes its bytes, and a
// multipart upload briefly twice that) goes to disk.
func serverDir(cfg *config, w workload, bytes int64, work string) (dir string, cleanup func(), err error) {
	var parent string // a folder of our own to remove too
	switch cfg.serverDir {
	case "disk":
		dir = filepath.Join(work, "s3")
	case "auto":
		dir = filepath.Join(work, "s3")
		var st syscall.Statfs_t
		if syscall.Statfs("/dev/shm", &st) == nil && int64(st.Bavail)*st.Bsize > 3*bytes+(1<<30) {
			parent = filepath.Join("/dev/shm", "peerbench-"+filepath.Base(cfg.dir))
			dir = filepath.Join(parent, w.Name)
		}
	default:
		dir = filepath.Join(cfg.serverDir, w.Name)
	}
	if err := os.RemoveAll(dir); err != nil { // left by an earlier --keep run
		return "", nil, err
	}
	cleanup = func() {
		os.RemoveAll(dir)
		if parent != "" {
			os.Remove(parent) // only once empty: other workloads may still use it
		}
	}
	return dir, cleanup, os.MkdirAll(dir, 0o755)
}
