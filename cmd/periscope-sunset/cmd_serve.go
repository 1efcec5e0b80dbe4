package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
	"github.com/periscope-sunset/periscope-sunset/sunset"
)

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the download portal that the links from `links` open",
		Description: "GET /u/<user>?token=... shows the user's download page; each part link answers with a\n" +
			"302 to a presigned S3 URL valid for --presign-ttl (S3 destination), or streams the file with\n" +
			"Range support (local folder). Tokens are checked with --secret-file, the file `links` used.\n" +
			"Every download is recorded in the audit log under --state. Run it behind a TLS-terminating\n" +
			"proxy or load balancer (give its addresses with --trust-proxy). GET /healthz answers ok.\n" +
			"SIGTERM stops it gracefully: downloads in flight get --shutdown-timeout to finish.\n\n" +
			"Example:\n" +
			"  periscope-sunset serve --dest s3://exports/2021 --listen :8080 \\\n" +
			"      --secret-file /run/secrets/portal --state s3://ops/sunset-state --trust-proxy 10.0.0.0/8",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"), Required: true,
				Usage: "where the exports are: folder, file:///path or s3://bucket/prefix"},
			&cli.StringFlag{Name: "listen", EnvVars: env("listen"), Value: ":8080",
				Usage: "address to listen on, host:port (port 0 picks a free one)"},
			&cli.StringFlag{Name: "secret-file", EnvVars: env("secret-file"), Required: true,
				Usage: "file holding the link-signing secret (at least 32 bytes): the file the links command used"},
			&cli.DurationFlag{Name: "presign-ttl", EnvVars: env("presign-ttl"), Value: portal.DefaultPresignTTL,
				Usage: "how long each part's presigned S3 URL works"},
			&cli.StringFlag{Name: "rate", EnvVars: env("rate"), Value: "10/s",
				Usage: "requests allowed per client address, e.g. 10/s, 300/m"},
			&cli.IntFlag{Name: "burst", EnvVars: env("burst"), Value: portal.DefaultBurst,
				Usage: "requests a client may make at once above --rate"},
			&cli.StringSliceFlag{Name: "trust-proxy", EnvVars: env("trust-proxy"),
				Usage: "CIDR of a proxy/load balancer whose X-Forwarded-For names the client (repeat for more)"},
			&cli.StringFlag{Name: "state", EnvVars: env("state"), Value: "./sunset-state", // as the runbook commands
				Usage: "where the audit log of downloads goes: folder, file:///path or s3://bucket/prefix"},
			&cli.DurationFlag{Name: "shutdown-timeout", EnvVars: env("shutdown-timeout"), Value: portal.DefaultShutdownTimeout,
				Usage: "on SIGTERM/SIGINT, how long downloads in flight may take to finish"},
		}, append(s3Flags(), metricsFlag())...),
		Action: runServe,
	}
}

func runServe(c *cli.Context) error {
	ctx := c.Context
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, nil))
	opts, err := serveOptions(c, log)
	if err != nil {
		return err
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	reg, err := startMetrics(c, &cfg)
	if err != nil {
		return err
	}
	dst, err := openStore(ctx, c, "dest", cfg)
	if err != nil {
		return err
	}
	stateStore, err := openStore(ctx, c, "state", cfg)
	if err != nil {
		return err
	}
	opts.OnDownload = auditDownload(sunset.Open(stateStore, sunset.Options{Actor: "portal"}))
	var h http.Handler
	if h, err = portal.New(dst, opts); err != nil {
		return usagef(c, "%v", err)
	}
	if reg != nil {
		h = reg.Portal(h)
	}
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	mode := "streaming from a local folder"
	if portal.PresignerFor(dst) != nil {
		mode = "redirecting to presigned S3 URLs"
	}
	fmt.Fprintf(c.App.Writer, "portal listening on http://%s (exports in %s, %s; audit in %s)\n",
		ln.Addr(), dst, mode, stateStore)
	return portal.Serve(ctx, ln, h, c.Duration("shutdown-timeout"), log)
}

// serveOptions fills portal.Options from the flags, in one place.
func serveOptions(c *cli.Context, log *slog.Logger) (portal.Options, error) {
	signer, err := readSecretFile(c, c.String("secret-file"))
	if err != nil {
		return portal.Options{}, err
	}
	opts := portal.Options{Signer: signer, PresignTTL: c.Duration("presign-ttl"), Burst: c.Int("burst"), Log: log}
	if opts.PresignTTL <= 0 || opts.PresignTTL > portal.MaxPresignTTL {
		return opts, usagef(c, "--presign-ttl %v: want more than 0 and at most 168h (S3's limit); minutes are best", opts.PresignTTL)
	}
	if opts.Rate, err = units.ParseRate(c.String("rate")); err != nil {
		return opts, usagef(c, "--rate: %v", err)
	}
	if opts.Burst < 1 {
		return opts, usagef(c, "--burst %d: want 1 or more", opts.Burst)
	}
	for _, s := range c.StringSlice("trust-proxy") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return opts, usagef(c, "--trust-proxy %q: want a CIDR such as 10.0.0.0/8 or an address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		opts.TrustedProxies = append(opts.TrustedProxies, p.Masked())
	}
	return opts, nil
}

// auditDownload records each download in the runbook's audit log: who
// (the user id, as the subject), which part and how. Never the token.
func auditDownload(state *sunset.State) func(context.Context, portal.Download) error {
	return func(ctx context.Context, d portal.Download) error {
		return state.Record(ctx, sunset.Event{
			Action:  "portal.download",
			Subject: d.User,
			Result:  d.Via,
			Detail:  d.Detail(),
		})
	}
}
