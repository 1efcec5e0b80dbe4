package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

func linksCommand() *cli.Command {
	return &cli.Command{
		Name:  "links",
		Usage: "write every completed export's download link, for the mailer (CSV or JSON lines)",
		Description: "Writes one row per user whose export is complete (has manifest.json): user_id, url,\n" +
			"expires_at (RFC 3339), parts and bytes. The url opens the download portal (`serve`) with a\n" +
			"token signed with --secret-file (the same file `serve` is given), valid for --ttl.\n\n" +
			"With --presign, writes instead one row per part with a presigned S3 GET URL (user_id, part,\n" +
			"parts, file, url, expires_at, bytes, sha256), for setups without a portal. S3 limits those to\n" +
			"7 days (the default with --presign), and they stop early if signed with temporary credentials.\n\n" +
			"Examples:\n" +
			"  periscope-sunset links --dest s3://exports/2021 --base-url https://download.example.com \\\n" +
			"      --secret-file /run/secrets/portal --out links.csv\n" +
			"  periscope-sunset links --dest s3://exports/2021 --presign --ttl 72h --format jsonl",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"), Required: true,
				Usage: "where the exports are: folder, file:///path or s3://bucket/prefix"},
			&cli.StringFlag{Name: "base-url", EnvVars: env("base-url"),
				Usage: "the portal's public address, e.g. https://download.example.com"},
			&cli.StringFlag{Name: "secret-file", EnvVars: env("secret-file"),
				Usage: "file holding the link-signing secret (at least 32 bytes): give serve the same file"},
			&cli.StringFlag{Name: "ttl", EnvVars: env("ttl"), Value: "30d",
				Usage: "how long the links work: 30d, 720h or 90m (with --presign: at most 7d, the default there)"},
			&cli.StringFlag{Name: "format", EnvVars: env("format"), Value: "csv", Usage: "csv or jsonl"},
			&cli.StringSliceFlag{Name: "user", EnvVars: env("user"),
				Usage: "only this user id (repeat for more); default every completed export"},
			&cli.StringFlag{Name: "out", EnvVars: env("out"),
				Usage: "write to this file (mode 0600: the links are credentials) instead of stdout"},
			&cli.BoolFlag{Name: "presign", EnvVars: env("presign"),
				Usage: "direct presigned S3 URLs per part instead of portal links (S3 destinations only)"},
		}, s3Flags()...),
		Action: runLinks,
	}
}

type linksOptions struct {
	link    portal.LinkOptions
	format  portal.Format
	presign bool
	secret  string
	out     string
}

func linksFlags(c *cli.Context) (linksOptions, error) {
	o := linksOptions{presign: c.Bool("presign"), secret: c.String("secret-file"), out: c.String("out")}
	var err error
	if o.format, err = portal.ParseFormat(c.String("format")); err != nil {
		return o, usagef(c, "--format: %v", err)
	}
	ttl, err := units.ParseDuration(c.String("ttl"))
	if err != nil {
		return o, usagef(c, "--ttl: %v", err)
	}
	o.link = portal.LinkOptions{BaseURL: c.String("base-url"), TTL: ttl, Users: c.StringSlice("user"),
		NotReady: func(u string) { fmt.Fprintf(c.App.ErrWriter, "skipped %s: no completed export yet\n", u) }}
	for _, u := range o.link.Users {
		if !export.ValidID(u) {
			return o, usagef(c, "--user %q: not a valid user id", u)
		}
	}
	if o.presign && !c.IsSet("ttl") {
		o.link.TTL = portal.MaxPresignTTL
	}
	switch {
	case o.link.TTL <= 0:
		return o, usagef(c, "--ttl %s: want a positive duration, e.g. 30d or 720h", c.String("ttl"))
	case o.presign && o.link.TTL > portal.MaxPresignTTL:
		return o, usagef(c, "--ttl %s: presigned S3 URLs last at most 7 days (7d, 168h); "+
			"for a longer window run `serve` and use portal links (without --presign)", c.String("ttl"))
	case !o.presign && (o.secret == "" || o.link.BaseURL == ""):
		return o, usagef(c, "--base-url and --secret-file are required (or --presign for direct S3 URLs)")
	}
	return o, nil
}

func runLinks(c *cli.Context) error {
	o, err := linksFlags(c)
	if err != nil {
		return err
	}
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	dst, err := openStore(c.Context, c, "dest", cfg)
	if err != nil {
		return err
	}
	var signer *portal.Signer
	var presigner portal.Presigner
	if o.presign {
		if presigner = portal.PresignerFor(dst); presigner == nil {
			return usagef(c, "--presign needs an s3:// --dest; %s is a local folder: run `serve` and use portal links", dst)
		}
	} else if signer, err = portal.ReadSecretFile(o.secret); err != nil {
		return usagef(c, "--secret-file: %v", err)
	}
	w, closeOut, err := linksOutput(c, o.out)
	if err != nil {
		return err
	}
	n := 0
	if o.presign {
		rw := portal.NewRowWriter[portal.PartLink](w, o.format)
		err = portal.PresignLinks(c.Context, dst, presigner, o.link, func(l portal.PartLink) error { n++; return rw.Write(l) })
		err = errors.Join(err, rw.Close())
	} else {
		rw := portal.NewRowWriter[portal.Link](w, o.format)
		err = portal.Links(c.Context, dst, signer, o.link, func(l portal.Link) error { n++; return rw.Write(l) })
		err = errors.Join(err, rw.Close())
	}
	if err = errors.Join(err, closeOut()); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	what := "links"
	if o.presign {
		what = "presigned part URLs"
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %d %s, valid until %s\n", n, what,
		time.Now().Add(o.link.TTL).UTC().Format(time.RFC3339))
	return nil
}

// linksOutput is --out, created 0600, or stdout.
func linksOutput(c *cli.Context, name string) (io.Writer, func() error, error) {
	if name == "" {
		return c.App.Writer, func() error { return nil }, nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--out: %w", err)
	}
	return f, f.Close, nil
}
