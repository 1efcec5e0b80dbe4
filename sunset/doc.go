// Package sunset is the shutdown runbook: the sign-up flag and the HTTP gate
// that enforces it, the delisting schedule and its milestones, and the audit
// log of every change. It owns the layout of the state store (a local folder
// or an S3 prefix, any blob.Store):
//
//	signups/flag/0000000001.json       the sign-up flag, one immutable object per version
//	runbook/plan/0000000001.json       the delisting schedule, one object per version
//	runbook/steps/<step>/0001-claim.json    a tick's claim on attempt 1 of a step (with a lease)
//	runbook/steps/<step>/0001-result.json   how attempt 1 ended: done, failed, awaiting confirmation
//	runbook/steps/<step>/0001-confirm.json  an operator's confirmation of a manual step
//	audit/<time>-<random>.json         one immutable object per audited event
//
// Every write is a create-only conditional write (blob.PutOptions.IfNoneMatch:
// link(2) on a local folder, If-None-Match: * on S3), which is atomic on both
// backends. A change to the flag or the schedule writes version N+1 after reading
// version N, so of two operators who read the same version exactly one wins
// and the other gets a ConflictError naming who changed it. Nothing is ever
// overwritten, so the version objects are a history as well.
//
// How work runs: Tick runs each due step of the runbook once. It can be
// called every minute from cron by any number of machines at once: before it
// runs a step it claims the step's next attempt with a create-only write, so
// only one tick runs it. A claim carries a lease; the step runs with a
// deadline inside the lease, and a claim left by a tick that died is taken
// over by the first tick after the lease ends. A failed attempt is retried by
// the next tick. Steps are independent: one failing does not stop the others.
//
// The gate that enforces the flag (middleware and proxy) is package
// sunset/gate; State.GateSource is where it reads the flag and schedule.
//
// Nothing here reads flags, the environment or a global clock: the caller
// passes the store, the actor, the clock and the App Store client in.
package sunset
