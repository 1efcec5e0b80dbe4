package main

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

// env names the environment variable every flag can also be set from.
func env(flag string) []string {
	return []string{"PERISCOPE_SUNSET_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))}
}

// bindEnv gives every flag of every command its PERISCOPE_SUNSET_<FLAG>
// variable, in this one place, so no flag can be added without one. The
// urfave/cli flag types each have an EnvVars field; they share no
// interface to set it through, hence reflection.
func bindEnv(cmds []*cli.Command, flags []cli.Flag) {
	for _, f := range flags {
		v := reflect.ValueOf(f)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			continue
		}
		field := v.Elem().FieldByName("EnvVars")
		if field.IsValid() && field.CanSet() && field.Len() == 0 {
			field.Set(reflect.ValueOf(env(f.Names()[0])))
		}
	}
	for _, c := range cmds {
		bindEnv(c.Subcommands, c.Flags)
	}
}

// s3Flags are shared by every command that opens a store.
func s3Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "s3-endpoint", EnvVars: env("s3-endpoint"), Category: "S3",
			Usage: "S3 endpoint URL for S3-compatible servers (default: AWS, or AWS_ENDPOINT_URL_S3)"},
		&cli.BoolFlag{Name: "s3-path-style", EnvVars: env("s3-path-style"), Category: "S3",
			Usage: "address buckets as https://host/bucket (most S3-compatible servers need this)"},
		&cli.StringFlag{Name: "memory-budget", EnvVars: env("memory-budget"), Category: "S3", Value: "auto",
			Usage: "bytes held in upload buffers across all workers, e.g. 256MiB (auto: 16MiB per CPU, 64MiB-1GiB)"},
		&cli.StringFlag{Name: "sse", EnvVars: env("sse"), Category: "S3",
			Usage: "server-side encryption of every object written: AES256 or aws:kms (default: the bucket's)"},
		&cli.StringFlag{Name: "sse-kms-key-id", EnvVars: env("sse-kms-key-id"), Category: "S3",
			Usage: "KMS key id, key ARN or alias for --sse aws:kms (default: the account's aws/s3 key)"},
		&cli.StringFlag{Name: "expected-bucket-owner", EnvVars: env("expected-bucket-owner"), Category: "S3",
			Usage: "account id that must own the destination (or state) bucket: checked first, then sent on every request"},
	}
}

// s3Config builds the S3 settings from the shared flags.
func s3Config(c *cli.Context) (blob.S3Config, error) {
	budget := min(max(int64(runtime.NumCPU())*16<<20, 64<<20), 1<<30)
	if v := c.String("memory-budget"); v != "auto" && v != "" {
		n, err := units.ParseSize(v)
		if err != nil || n < 8<<20 {
			return blob.S3Config{}, usagef(c, "--memory-budget %q: want a size of at least 8MiB, e.g. 256MiB", v)
		}
		budget = n
	}
	enc := blob.Encryption{Mode: c.String("sse"), KMSKeyID: c.String("sse-kms-key-id")}
	if err := blob.CheckEncryption(enc); err != nil {
		return blob.S3Config{}, usagef(c, "--sse %q --sse-kms-key-id %q: %v", enc.Mode, enc.KMSKeyID, err)
	}
	return blob.S3Config{
		Endpoint:   c.String("s3-endpoint"),
		PathStyle:  c.Bool("s3-path-style"),
		Budget:     blob.NewBudget(budget),
		Encryption: enc,
	}, nil
}

// openStore opens the store a flag names, with the flag in any error.
// When an expected bucket owner is given for it, the owner is checked
// before anything else is done.
func openStore(ctx context.Context, c *cli.Context, flag string, cfg blob.S3Config) (blob.Store, error) {
	raw := c.String(flag)
	if raw == "" {
		return nil, usagef(c, "--%s is required", flag)
	}
	ownerFlag := "expected-bucket-owner"
	if flag == "source" {
		// The source is only read: the write settings are the destination's.
		ownerFlag, cfg.Encryption, cfg.StorageClass, cfg.Tags = "source-expected-bucket-owner", blob.Encryption{}, "", nil
	}
	cfg.ExpectedBucketOwner = c.String(ownerFlag)
	if err := blob.CheckOwner(cfg.ExpectedBucketOwner); err != nil {
		return nil, usagef(c, "--%s: %v", ownerFlag, err)
	}
	if name := s3OnlyFlag(c, flag); name != "" && !strings.HasPrefix(raw, "s3://") {
		return nil, usagef(c, "--%s applies to S3 only, but --%s is %q", name, flag, raw)
	}
	s, err := blob.Open(ctx, raw, cfg)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	if oc, ok := s.(bucketOwnerChecker); ok {
		if err := oc.CheckBucketOwner(ctx); err != nil {
			return nil, fmt.Errorf("--%s %s: %w", ownerFlag, cfg.ExpectedBucketOwner, err)
		}
	}
	return s, nil
}

// bucketOwnerChecker is a store that can confirm who owns its bucket.
type bucketOwnerChecker interface {
	CheckBucketOwner(ctx context.Context) error
}

// s3OnlyFlag names a flag given for the store behind flag that only S3
// honours, so that asking for encryption or an owner check of a local
// folder is an error rather than silently nothing. The runbook state may
// stay local while the exports go to S3, so it is not checked.
func s3OnlyFlag(c *cli.Context, flag string) string {
	names := []string{"sse", "sse-kms-key-id", "expected-bucket-owner", "storage-class", "tag"}
	switch flag {
	case "state":
		return ""
	case "source":
		names = []string{"source-expected-bucket-owner"}
	}
	for _, n := range names {
		if c.IsSet(n) {
			return n
		}
	}
	return ""
}

// openDest opens --dest, behind the dry-run wrapper (reads go through,
// writes and deletes do not) when dryRun is set.
func openDest(ctx context.Context, c *cli.Context, cfg blob.S3Config, dryRun bool) (blob.Store, error) {
	dst, err := openStore(ctx, c, "dest", cfg)
	if err != nil || !dryRun {
		return dst, err
	}
	return blob.DryRun{Store: dst}, nil
}
