// Package deploy holds the files that run periscope-sunset where the fleet
// runs, and the tests that check them without a cloud account: the AWS
// Batch inputs (aws-batch/*.json, each exactly the --cli-input-json of its
// AWS CLI call, validated against the AWS API model of the aws-sdk-go-v2
// service modules pinned in go.mod, see model_test.go, and smoke-tested with
// the real AWS CLI), the Kubernetes indexed Job (kubernetes/export-job.yaml),
// and the repository's Dockerfile. The runbook is docs/fleet.md. The
// package has no code of its own.
package deploy
