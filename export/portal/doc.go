// Package portal lets users download their exports: signed links for the
// notification mailer, and a small HTTP download portal that turns a link
// into a page listing the user's parts, each a download.
//
// Links carry a token, an HMAC-SHA256 over the user id and an expiry made
// with a secret shared by `links` and `serve`, so the portal needs no
// database: it checks the token (in constant time), reads the user's
// manifest.json from the export destination and answers. A part download is
// a 302 to a freshly presigned S3 URL valid for minutes when the
// destination is S3, or the file streamed with Range support when it is a
// local folder. Every refusal of a token, whatever the reason, is the same
// 403 page, byte for byte.
//
// How work runs: the Handler serves each request on net/http's own
// goroutine and holds no per-request state between requests; the only
// shared state is the per-client rate limiter (a token bucket per client
// address behind one mutex, idle buckets swept as it goes). Downloads are
// reported through a callback (Options.OnDownload) that the command wires
// to the audit log: a streamed part once a response has served its last
// byte (served.go), a redirect when a presigned URL is handed out. Serve runs the server until its context ends, then
// shuts it down gracefully. Nothing here reads flags, the environment or a
// global clock.
package portal
