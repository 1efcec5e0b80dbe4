package main

import "github.com/urfave/cli/v2"

// delistCommand is a placeholder until the runbook lands.
func delistCommand() *cli.Command {
	return &cli.Command{Name: "delist", Usage: "(not built yet)", Hidden: true}
}
