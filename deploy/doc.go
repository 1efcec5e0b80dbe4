// Package deploy holds the files that run periscope-sunset where the fleet
// runs, and the tests that check them without a cloud account: the AWS
// Batch inputs (aws-batch/*.json, each exactly the --cli-input-json of its
// AWS CLI call, validated against the AWS service model by
// validate_cli_input.py and handed to the real AWS CLI), the Kubernetes
// indexed Job (kubernetes/export-job.yaml), and the repository's
// Dockerfile. The runbook is the README section "Running the export on a fleet". The package has no code of
// its own.
package deploy
