package main

import (
	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/sunset"
	"github.com/periscope-sunset/periscope-sunset/sunset/appstore"
)

// ascFlags configure the App Store Connect client the tick's delist-apple
// step uses.
func ascFlags() []cli.Flag {
	const cat = "App Store Connect (for delist-apple)"
	return []cli.Flag{
		&cli.StringFlag{Name: "asc-base-url", EnvVars: env("asc-base-url"), Value: appstore.DefaultBaseURL, Category: cat,
			Usage: "App Store Connect API base URL"},
		&cli.StringFlag{Name: "asc-key-file", EnvVars: env("asc-key-file"), Category: cat,
			Usage: "the team's API key, AuthKey_<KEYID>.p8 (never logged or audited)"},
		&cli.StringFlag{Name: "asc-key-id", EnvVars: env("asc-key-id"), Category: cat, Usage: "the API key's id"},
		&cli.StringFlag{Name: "asc-issuer-id", EnvVars: env("asc-issuer-id"), Category: cat, Usage: "the team's issuer id"},
		&cli.StringFlag{Name: "asc-app-id", EnvVars: env("asc-app-id"), Category: cat, Usage: "the app's Apple ID (numeric)"},
	}
}

// appleDelister builds the App Store step's client, or nil when no App
// Store Connect flag is set (the step then fails with a hint).
func appleDelister(c *cli.Context) (sunset.Delister, error) {
	names := []string{"asc-key-file", "asc-key-id", "asc-issuer-id", "asc-app-id"}
	set := 0
	for _, n := range names {
		if c.String(n) != "" {
			set++
		}
	}
	if set == 0 {
		return nil, nil
	}
	if set < len(names) {
		return nil, usagef(c, "App Store Connect needs all of --asc-key-file, --asc-key-id, --asc-issuer-id and --asc-app-id")
	}
	key, err := appstore.LoadKey(c.String("asc-key-file"))
	if err != nil {
		return nil, usagef(c, "--asc-key-file: %v", err)
	}
	client, err := appstore.New(appstore.Config{
		BaseURL: c.String("asc-base-url"), KeyID: c.String("asc-key-id"), IssuerID: c.String("asc-issuer-id"), Key: key,
	})
	if err != nil {
		return nil, usagef(c, "%v", err)
	}
	return appstore.Delister{Client: client, AppID: c.String("asc-app-id")}, nil
}
