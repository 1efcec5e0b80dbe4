package main

import (
	"github.com/urfave/cli/v2"
)

// guardCommands gives every command, subcommands included, the checks
// that hold for all of them, run once its flags are parsed: no duration
// flag may be negative, and the stopper learns the command's drain time.
func guardCommands(cmds []*cli.Command) {
	for _, cmd := range cmds {
		guardCommands(cmd.Subcommands)
		own := cmd.Before
		cmd.Before = func(c *cli.Context) error {
			if err := checkDurations(c); err != nil {
				return err
			}
			registerDrain(c)
			if own != nil {
				return own(c)
			}
			return nil
		}
	}
}

// checkDurations refuses a negative value in any duration flag: a negative
// timeout, TTL or interval is always a typo, and some would mean "never".
func checkDurations(c *cli.Context) error {
	if c.Command == nil {
		return nil
	}
	for _, f := range c.Command.Flags {
		d, ok := f.(*cli.DurationFlag)
		if !ok || !c.IsSet(d.Name) {
			continue
		}
		if v := c.Duration(d.Name); v < 0 {
			return usagef(c, "--%s %v: must not be negative", d.Name, v)
		}
	}
	return nil
}
