package main

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

// progress is an export.Progress that also owns the run's logger.
type progress interface {
	export.Progress
	Close()
}

// newProgress picks how a run shows its progress: a bar on a terminal,
// structured log lines elsewhere (CloudWatch, kubectl logs), or nothing.
func newProgress(mode, unit string) (progress, *slog.Logger, error) {
	if mode == "auto" {
		mode = "log"
		if term.IsTerminal(int(os.Stderr.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		// Log lines would tear the bar; only warnings get through.
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return &barProgress{unit: unit, start: time.Now()}, log, nil
	case "log":
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		p := &logProgress{log: log, start: time.Now(), stop: make(chan struct{})}
		return p, log, nil
	case "none":
		return nopProgress{}, slog.New(slog.DiscardHandler), nil
	}
	return nil, nil, fmt.Errorf("unknown mode %q: want auto, bar, log or none", mode)
}

type nopProgress struct{ export.NopProgress }

func (nopProgress) Close() {}

// barProgress draws users done / total with bytes, rate and ETA.
type barProgress struct {
	unit  string
	start time.Time
	bytes atomic.Int64
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
}

func (p *barProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetDescription("exporting"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString(p.unit),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
	)
}

func (p *barProgress) Bytes(n int64) { p.bytes.Add(n) }

func (p *barProgress) Done(export.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		return
	}
	b := p.bytes.Load()
	p.bar.Describe(fmt.Sprintf("exporting %s at %s/s", units.Bytes(b), units.Bytes(rate(b, p.start))))
	p.bar.Add(1)
}

func (p *barProgress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}

// logProgress writes a line per user and a summary every 10 seconds.
type logProgress struct {
	log            *slog.Logger
	start          time.Time
	total          int
	done, bytes    atomic.Int64
	stop           chan struct{}
	once, stopOnce sync.Once
}

func (p *logProgress) Start(total int) {
	p.total = total
	p.once.Do(func() { go p.tick() })
}

func (p *logProgress) tick() {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			b := p.bytes.Load()
			p.log.Info("progress", "users_done", p.done.Load(), "users_total", p.total,
				"bytes", b, "rate", units.Bytes(rate(b, p.start))+"/s")
		}
	}
}

func (p *logProgress) Bytes(n int64) { p.bytes.Add(n) }

func (p *logProgress) Done(o export.Outcome) {
	p.done.Add(1)
	if o.Status != export.StatusFailed { // failures are logged by the export itself
		p.log.Info("user "+string(o.Status), "user", o.User, "bytes", o.Bytes)
	}
}

func (p *logProgress) Close() { p.stopOnce.Do(func() { close(p.stop) }) }

func rate(n int64, since time.Time) int64 {
	s := time.Since(since).Seconds()
	if s <= 0 {
		return 0
	}
	return int64(float64(n) / s)
}
