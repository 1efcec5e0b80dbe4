// Package purge deletes users' exports from the destination when the
// export window closes, or one user's on a deletion request.
//
// For each user it deletes manifest.json first, so that a user whose purge
// was interrupted is never again seen as having a complete export (the
// portal, links, notify and verify all key on it), then the zip parts, then
// everything else in the user's folder (claims, the notify record), and
// aborts the user's unfinished multipart uploads when the store can. Every
// step is a delete of something that may already be gone, so a rerun after
// a crash finishes the job and a second run finds nothing to do.
//
// It never deletes outside a user's own folder: every key is checked to be
// <valid user id>/<name>, and the run reports under _runs/ are left, with
// this run's own report (_runs/purge/<run_id>.json: every user purged, with
// objects and bytes) added beside them. It is given only the destination
// store; it has no way to reach the source.
//
// How work runs: one goroutine lists the destination once, in key order, and
// hands each user's keys (which are contiguous in that order) to
// Options.Workers goroutines; a user's deletes run in order within its
// worker. One user's failure never stops the others.
package purge
