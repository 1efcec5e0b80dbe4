package main

import "github.com/urfave/cli/v2"

// planCommand is a placeholder until the fleet planner lands.
func planCommand() *cli.Command {
	return &cli.Command{Name: "plan", Usage: "(not built yet)", Hidden: true}
}
