// Package gate is the sign-up gate: the http.Handler middleware a Go app
// embeds (Gate.Wrap) and the reverse proxy that puts it in front of an app
// in any language (ServeProxy, behind `periscope-sunset signups gate`). It
// owns the gate's guarantees: route matching on one normal form of the
// path (CleanPath, ParseRoute), the one rule for method overrides, the
// upgrade policy (only WebSocket, only where the route is let through),
// refusing paths with control characters, and the RFC 8594 Sunset and
// Link headers on every response. docs/gate.md states them for operators.
//
// How it runs: the gate reads its State from a Source (the sunset
// package's state store, through sunset.State.GateSource) in one
// background goroutine (Gate.Run) on an interval, and serves every request
// from the copy in memory, so a slow or unreachable store never slows a
// request; after a failed read it keeps the last state. Routes are parsed
// once (ParseRoutes) and never panic.
//
// The package depends on the standard library only (a test keeps it free
// of the AWS SDK), so an app can embed it without the runbook.
package gate
