package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/export/portal"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
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
			if err := registerDrain(c); err != nil {
				return err
			}
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

// refuseOverlap refuses two location flags that name the same place or one
// inside the other (blob.Overlaps), before anything is opened or written.
func refuseOverlap(c *cli.Context, flagA, flagB string) error {
	a, b := c.String(flagA), c.String(flagB)
	if a == "" || b == "" {
		return nil // a required flag is missing: openStore says so
	}
	over, err := blob.Overlaps(a, b)
	if err != nil {
		return usagef(c, "--%s %s / --%s %s: %v", flagA, a, flagB, b, err)
	}
	if over {
		return usagef(c, "--%s %s and --%s %s overlap (the same place, or one inside the other): "+
			"writing there would mix with or overwrite what is read; nothing was written. Give them separate locations",
			flagA, a, flagB, b)
	}
	return nil
}

// readSecretFile reads --secret-file into a signer (which refuses a short
// or predictable secret), and warns when the file is readable by group or
// others: anyone who can read it can make download links for every user.
func readSecretFile(c *cli.Context, name string) (*portal.Signer, error) {
	if fi, err := os.Stat(name); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(c.App.ErrWriter, "periscope-sunset: warning: --secret-file %s is readable by group or others (mode %04o); "+
			"anyone who can read it can sign download links: chmod 600 %s\n", name, fi.Mode().Perm(), name)
	}
	signer, err := portal.ReadSecretFile(name)
	if err != nil {
		return nil, usagef(c, "--secret-file: %v", err)
	}
	return signer, nil
}
