package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/metrics"
)

func metricsFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics-listen", EnvVars: env("metrics-listen"), Category: "Metrics",
		Usage: "serve Prometheus metrics on http://ADDR/metrics (e.g. 127.0.0.1:9101; empty: off)"}
}

// startMetrics serves a registry on --metrics-listen until the command's
// context ends, and wires the S3 hook into cfg. Without the flag it
// returns nil and changes nothing.
func startMetrics(c *cli.Context, cfg *blob.S3Config) (*metrics.Registry, error) {
	addr := c.String("metrics-listen")
	if addr == "" {
		return nil, nil
	}
	reg := metrics.New(cfg.Budget)
	cfg.OnRequest = reg.S3Request
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usagef(c, "--metrics-listen: %v", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "metrics on http://%s/metrics\n", ln.Addr())
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	go func() {
		if err := portal.Serve(c.Context, ln, metricsMux(reg), 0, log); err != nil {
			log.Warn("metrics server stopped", "err", err)
		}
	}()
	return reg, nil
}

func metricsMux(reg *metrics.Registry) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler())
	return mux
}
