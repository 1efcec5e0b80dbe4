package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "re-read exports and check every byte against their manifests",
		Description: "For each user (all users with a manifest.json, or those given with --user), re-reads\n" +
			"every part and checks its size and SHA-256 against manifest.json, then every file in\n" +
			"it against manifest.json and the bag's manifest-sha256.txt, tagmanifest-sha256.txt and\n" +
			"Payload-Oxum. Prints one line per problem and exits 3 if any export is not intact.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"), Required: true,
				Usage: "where the exports are: folder, file:///path or s3://bucket/prefix"},
			&cli.StringSliceFlag{Name: "user", EnvVars: env("user"),
				Usage: "check only this user id (repeat for more)"},
			&cli.IntFlag{Name: "workers", EnvVars: env("workers"), Value: 4, Usage: "users checked at once"},
			&cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print one JSON object per user"},
		}, s3Flags()...),
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	dst, err := openStore(c.Context, c, "dest", cfg)
	if err != nil {
		return err
	}
	for _, u := range c.StringSlice("user") {
		if !export.ValidID(u) {
			return usagef(c, "--user %q: not a valid user id", u)
		}
	}
	enc := json.NewEncoder(c.App.Writer)
	opts := export.VerifyOptions{
		Users:   c.StringSlice("user"),
		Workers: c.Int("workers"),
		Progress: func(r export.UserCheck) {
			if c.Bool("json") {
				enc.Encode(r)
				return
			}
			if r.OK() {
				fmt.Fprintf(c.App.Writer, "ok    %s: %d part(s), %d files, %s\n", r.User, r.Parts, r.Files, humanBytes(r.Bytes))
			}
			for _, p := range r.Problems {
				fmt.Fprintf(c.App.Writer, "FAIL  %s: %s\n", r.User, p)
			}
		},
	}
	results, err := export.Verify(c.Context, dst, opts)
	if err == nil && !c.Bool("json") {
		fmt.Fprintf(c.App.Writer, "all %d exports verified\n", len(results))
	}
	if err == nil && len(results) == 0 && len(opts.Users) == 0 {
		return fmt.Errorf("no exports found in %s", dst)
	}
	return err
}
