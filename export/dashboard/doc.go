// Package dashboard serves the shutdown at a glance: one server-rendered
// page (no script, readable on a phone, refreshing itself) with the
// runbook, the sign-up flag, the export's progress per shard, failures
// grouped by reason, and notification and download progress.
//
// It reads the same state, reports and manifests the commands read, never a
// copy. Reads that grow with the number of users (the destination listing
// behind export.ReadStatus, the audit log) run in one background loop at
// most once per Options.Interval; page views and scrapes only read the
// cached Snapshot, so a page view costs the same at ten users or ten
// million. Immutable objects (run reports, audit events) are read once and
// remembered by key.
package dashboard
