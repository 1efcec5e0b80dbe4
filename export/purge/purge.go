package purge

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// Options say what to purge. The zero value purges every user.
type Options struct {
	// Users restricts the purge to these ids; empty means every user
	// folder in the destination.
	Users []string
	// DryRun lists and counts what would be deleted and deletes nothing.
	DryRun bool
	// Workers is how many users are purged at once (default 8).
	Workers int
	// RunID names the run in its report (default: time-based).
	RunID string
	// Progress receives per-user results (default: none).
	Progress Progress
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Progress receives a run's progress; calls come from many goroutines.
type Progress interface {
	Done(u UserResult)
}

type nopProgress struct{}

func (nopProgress) Done(UserResult) {}

func (o Options) withDefaults() Options {
	o.Workers = cmp.Or(max(o.Workers, 0), 8)
	if o.Progress == nil {
		o.Progress = nopProgress{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RunID == "" {
		b := make([]byte, 3)
		rand.Read(b)
		o.RunID = "purge-" + o.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
	}
	return o
}

// uploadAborter is a store that can abort unfinished multipart uploads
// (the S3 store), whose parts hold user data too.
type uploadAborter interface {
	AbortIncompleteUploads(ctx context.Context, prefix string) (int, error)
}

// userKeys is one user's folder as listed.
type userKeys struct {
	user  string
	infos []blob.Info
}

// Run purges the users' exports from dst and, unless a dry run, stores a
// report. It returns the report, with an *export.PartialError when some
// users could not be purged fully (rerun to finish), or another error when
// the run could not proceed.
func Run(ctx context.Context, dst blob.Store, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	for _, u := range opts.Users {
		if !export.ValidID(u) || u+"/" == export.RunsPrefix {
			return nil, fmt.Errorf("purge: invalid user id %q", u)
		}
	}
	rep := newReport(opts)
	err := run(ctx, dst, opts, rep)
	rep.finish(opts.Now(), err)
	if !opts.DryRun {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, rep.store(wctx, dst))
	}
	if err != nil {
		return rep, err
	}
	if rep.Failed > 0 {
		return rep, &export.PartialError{Failed: rep.Failed, Total: len(rep.Users), ReportKey: rep.Key()}
	}
	return rep, nil
}

func run(ctx context.Context, dst blob.Store, opts Options, rep *Report) error {
	jobs := make(chan userKeys)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobs)
		return list(gctx, dst, opts.Users, rep, func(u userKeys) error {
			select {
			case jobs <- u:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	for range opts.Workers {
		g.Go(func() error {
			for j := range jobs {
				res := purgeUser(gctx, dst, j, opts.DryRun)
				if gctx.Err() != nil && res.Error != "" {
					return gctx.Err() // interrupted: rerun to finish
				}
				rep.add(res)
				opts.Progress.Done(res)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if len(opts.Users) == 0 && !opts.DryRun {
		return abortOrphanUploads(ctx, dst, opts, rep)
	}
	return nil
}

// uploadLister is a store that lists unfinished multipart uploads.
type uploadLister interface {
	ListIncompleteUploads(ctx context.Context, prefix string) ([]string, error)
}

// abortOrphanUploads aborts the unfinished uploads of users who had no
// object left to list (an export killed during its first part): every
// user that was listed had theirs aborted already.
func abortOrphanUploads(ctx context.Context, dst blob.Store, opts Options, rep *Report) error {
	l, ok := dst.(uploadLister)
	if !ok {
		return nil
	}
	keys, err := l.ListIncompleteUploads(ctx, "")
	if err != nil {
		return fmt.Errorf("list unfinished uploads in %s: %w", dst, err)
	}
	done := map[string]bool{}
	for _, k := range keys {
		uid, _, ok := strings.Cut(k, "/")
		if !ok || done[uid] || !export.ValidID(uid) || uid+"/" == export.RunsPrefix {
			continue
		}
		done[uid] = true
		res := purgeUser(ctx, dst, userKeys{user: uid}, false)
		rep.add(res)
		opts.Progress.Done(res)
	}
	return nil
}

// list calls fn with each user's keys: the named users' folders, or every
// user folder in dst. Keys outside any user folder are left and reported.
func list(ctx context.Context, dst blob.Store, users []string, rep *Report, fn func(userKeys) error) error {
	if len(users) > 0 {
		for _, u := range slices.Compact(slices.Sorted(slices.Values(users))) {
			cur := userKeys{user: u}
			if err := dst.List(ctx, u+"/", func(i blob.Info) error { cur.infos = append(cur.infos, i); return nil }); err != nil {
				return fmt.Errorf("list %s/ in %s: %w", u, dst, err)
			}
			if err := fn(cur); err != nil {
				return err
			}
		}
		return nil
	}
	var cur userKeys
	err := dst.List(ctx, "", func(i blob.Info) error {
		uid, rest, ok := strings.Cut(i.Key, "/")
		switch {
		case ok && uid+"/" == export.RunsPrefix:
			return nil // run reports stay
		case !ok || rest == "" || !export.ValidID(uid):
			rep.leave(i.Key)
			return nil
		case uid != cur.user:
			// A user's keys are contiguous in key order: they all start
			// with "<uid>/", and no other key sorts between two of them.
			if cur.user != "" {
				if err := fn(cur); err != nil {
					return err
				}
			}
			cur = userKeys{user: uid}
		}
		cur.infos = append(cur.infos, i)
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", dst, err)
	}
	if cur.user != "" {
		return fn(cur)
	}
	return nil
}

// purgeUser deletes one user's folder: manifest.json first, then the
// parts, then the rest, then unfinished uploads.
func purgeUser(ctx context.Context, dst blob.Store, u userKeys, dry bool) UserResult {
	res := UserResult{User: u.user}
	slices.SortStableFunc(u.infos, func(a, b blob.Info) int { return order(u.user, a.Key) - order(u.user, b.Key) })
	for _, i := range u.infos {
		if err := checkKey(u.user, i.Key); err != nil {
			res.Error = err.Error()
			return res
		}
		if !dry {
			if err := dst.Delete(ctx, i.Key); err != nil {
				res.Error = fmt.Sprintf("delete %s: %v", i.Key, err)
				return res
			}
		}
		res.Objects++
		res.Bytes += i.Size
	}
	if a, ok := dst.(uploadAborter); ok && !dry {
		n, err := a.AbortIncompleteUploads(ctx, u.user+"/")
		res.AbortedUploads = n
		if err != nil {
			res.Error = fmt.Sprintf("abort unfinished uploads: %v", err)
		}
	}
	return res
}

// order puts manifest.json first and the zip parts next.
func order(user, key string) int {
	name := strings.TrimPrefix(key, user+"/")
	switch {
	case name == export.ManifestName:
		return 0
	case strings.HasPrefix(name, "periscope-") && strings.HasSuffix(name, ".zip"):
		return 1
	}
	return 2
}

// checkKey makes sure a key is inside the user's own folder before it is
// deleted.
func checkKey(user, key string) error {
	rest, ok := strings.CutPrefix(key, user+"/")
	if !ok || !export.ValidID(user) || rest == "" || strings.HasPrefix(rest, "/") || strings.Contains(rest, "\\") {
		return fmt.Errorf("refusing to delete %q: not inside %s/", key, user)
	}
	for _, seg := range strings.Split(rest, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("refusing to delete %q: not a clean key inside %s/", key, user)
		}
	}
	return nil
}
