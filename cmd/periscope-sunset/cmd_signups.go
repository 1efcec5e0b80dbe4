package main

import "github.com/urfave/cli/v2"

// signupsCommand is a placeholder until the runbook lands.
func signupsCommand() *cli.Command {
	return &cli.Command{Name: "signups", Usage: "(not built yet)", Hidden: true}
}
