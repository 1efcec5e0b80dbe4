package main

import "github.com/urfave/cli/v2"

// runbookCommand is a placeholder until the runbook lands.
func runbookCommand() *cli.Command {
	return &cli.Command{Name: "runbook", Usage: "(not built yet)", Hidden: true}
}
