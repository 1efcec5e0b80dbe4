// Package notify emails every user whose export is complete the portal
// link to download it, exactly once.
//
// It reads users.jsonl from the source (for each user's email and display
// name) and each user's manifest.json from the destination (for the size,
// the parts and the export's fingerprint), and makes the link with the
// portal's own signer (portal.LinkFor), so `serve` accepts it.
//
// Exactly once: before sending, a run claims the user with a create-only
// write of <dest>/<user>/.notify.json in state "sending"; after the server
// accepts the message it rewrites the record, conditionally on the claim's
// ETag, as "sent" with the export's fingerprint. Of two concurrent runs only
// one creates the claim. A run that dies between the claim and the "sent"
// record leaves "sending": the message may or may not have gone, so no later
// run sends it again on its own; it is listed as unknown until an operator
// checks the mail log and names the user with Options.Resend. A refusal the
// server calls permanent (5xx) is recorded as "failed" and also waits for
// Options.Resend. A temporary refusal (4xx) is retried with backoff and, if
// it persists, the claim is released so the next run tries again. A user
// whose export changed after the email is mailed again only with
// Options.RenotifyChanged.
//
// Addresses are parsed strictly (one RFC 5322 mailbox, no control
// characters); the recipient header carries the bare address, never a
// display name from users.jsonl. Emails and tokens are never logged or
// reported: the report lists user ids and counts only.
//
// How work runs: one goroutine streams users.jsonl into a channel and
// Options.Workers goroutines take users from it; every send waits on one
// shared token bucket (Options.Rate per second). One user's failure never
// stops the others.
package notify
