package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show export progress across all shards: done, failed, pending, bytes",
		Description: "Reads the destination once (manifests, parts and every shard's run reports) and\n" +
			"prints users done and failed (with reasons), bytes, and each shard's latest run.\n" +
			"With --source it also reads users.jsonl to count users still pending.\n\n" +
			"Example:\n  periscope-sunset status --dest s3://exports/periscope --source s3://live/archive",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "dest", EnvVars: env("dest"), Required: true,
				Usage: "where the exports are: folder, file:///path or s3://bucket/prefix"},
			&cli.StringFlag{Name: "source", EnvVars: env("source"),
				Usage: "the source archive, to count pending users (optional)"},
			&cli.BoolFlag{Name: "json", EnvVars: env("json"), Usage: "print one JSON document"},
		}, s3Flags()...),
		Action: runStatus,
	}
}

func runStatus(c *cli.Context) error {
	cfg, err := s3Config(c)
	if err != nil {
		return err
	}
	dst, err := openStore(c.Context, c, "dest", cfg)
	if err != nil {
		return err
	}
	var src blob.Store
	if c.String("source") != "" {
		if src, err = openStore(c.Context, c, "source", cfg); err != nil {
			return err
		}
	}
	st, err := export.ReadStatus(c.Context, dst, src)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(c, st, src != nil)
	return nil
}

func printStatus(c *cli.Context, st *export.StatusReport, withSource bool) {
	w := c.App.Writer
	fmt.Fprintf(w, "done      %d users, %s\n", st.Done, units.Bytes(st.Bytes))
	fmt.Fprintf(w, "omissions %d done users have omissions (broadcasts or files that could not be exported safely)\n", st.WithOmissions)
	fmt.Fprintf(w, "failed    %d users (in their shard's latest run, not done since)\n", st.Failed)
	if st.Duplicates > 0 {
		fmt.Fprintf(w, "duplicates %d lines of users.jsonl repeat an id (each user is exported once)\n", st.Duplicates)
	}
	if withSource {
		fmt.Fprintf(w, "pending   %d of %d users\n", st.Pending, st.Total)
	}
	if st.InFlight > 0 {
		fmt.Fprintf(w, "unfinished %d users have parts but no manifest (in progress, or left by a killed run: rerun redoes them)\n", st.InFlight)
	}
	if len(st.Shards) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SHARD\tDONE\tUSERS\tFAILED\tLAST RUN\tFINISHED\t")
		for _, sh := range st.Shards {
			users := "-"
			if withSource {
				users = fmt.Sprint(sh.Users)
			}
			end := sh.LastRunEnd
			if sh.Interrupted {
				end += " (interrupted)"
			}
			fmt.Fprintf(tw, "%d/%d\t%d\t%s\t%d\t%s\t%s\t\n", sh.Index, sh.Count, sh.Done, users, sh.Failed, sh.LastRun, end)
		}
		tw.Flush()
	}
	for _, f := range st.Failures {
		fmt.Fprintf(w, "  failed: %s\n", f.Reason)
	}
	for _, o := range st.Omitted {
		fmt.Fprintf(w, "  omitted: user %s: %s\n", o.User, o.Omission)
	}
}
