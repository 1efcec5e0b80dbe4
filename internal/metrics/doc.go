// Package metrics turns the libraries' progress callbacks into Prometheus
// collectors and serves them on /metrics.
//
// The libraries (export, notify, blob, the portal) never import Prometheus:
// each reports through a small interface or hook of its own (export.Progress
// and export.Beginner, notify.Progress, blob.S3Config.OnRequest,
// blob.Budget.Used). Only cmd builds a Registry, hands its adapters to the
// libraries and serves Handler on --metrics-listen. Every adapter is safe
// for concurrent use: the collectors are atomic, nothing here holds a lock
// across a call into a library.
package metrics
