package fleet

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/names"
)

// broadcastsPrefix is where the source archive keeps every user's media.
const broadcastsPrefix = "broadcasts/"

// Catalog is what a source archive holds, counted the way the export will
// see it: the users of users.jsonl, each with the objects under its
// broadcasts/<user_id>/ folder.
type Catalog struct {
	Source string `json:"source"`
	// Users is the number of usable users.jsonl lines: each becomes one
	// export, with or without broadcasts.
	Users int `json:"users"`
	// UsersWithBroadcasts have at least one object under broadcasts/.
	UsersWithBroadcasts int `json:"users_with_broadcasts"`
	// UnusableLines are users.jsonl lines the export reports as failed
	// (not JSON, bad id) and duplicates of a user with broadcasts.
	UnusableLines int   `json:"unusable_lines"`
	Broadcasts    int64 `json:"broadcasts"`
	Files         int64 `json:"files"`
	// Bytes is the size of every source object the export will copy.
	Bytes int64 `json:"bytes"`
	// Orphans are user folders under broadcasts/ that users.jsonl does
	// not list: the export never reads them.
	Orphans Orphans `json:"not_in_users_jsonl"`
	// StrayKeys are objects under broadcasts/ that are not inside a
	// broadcast folder (broadcasts/<user>/<broadcast>/...).
	StrayKeys int64 `json:"stray_keys"`
	// ProblemCount counts what the export will refuse or omit among
	// the users it exports: users.jsonl lines it cannot use, and entries
	// under broadcasts/<user_id>/ that are not regular files inside that
	// folder (links, FIFOs) or whose names it refuses. Each costs only
	// itself; Problems lists the first maxProblems.
	ProblemCount int64     `json:"problem_count"`
	Problems     []Problem `json:"problems,omitempty"`
	Largest      UserSize  `json:"largest_user"`
	// Histogram counts users by source bytes, in power-of-4 buckets.
	Histogram []Bucket `json:"histogram"`
	// ListedObjects and ScanRequests are what this scan cost: one GET of
	// users.jsonl and one LIST request per 1,000 keys.
	ListedObjects int64 `json:"listed_objects"`
	ScanRequests  int64 `json:"scan_requests"`

	users    []*userStat           // users with broadcasts, in users.jsonl order
	requests export.RequestOptions // what each user's requests were counted for
	// problems found under each user's folder, kept until users.jsonl
	// says whether the user is exported at all
	userProblems map[string][]Problem
}

// maxProblems bounds the problems a plan lists one by one.
const maxProblems = 100

// Problem is one thing the export will refuse or omit, and why.
type Problem struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

func (c *Catalog) problem(p Problem) {
	c.ProblemCount++
	if len(c.Problems) < maxProblems {
		c.Problems = append(c.Problems, p)
	}
}

// Orphans counts what sits under broadcasts/ for users the export skips.
type Orphans struct {
	Users int   `json:"users"`
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
}

// UserSize names one user and the size of its source objects.
type UserSize struct {
	ID    string `json:"id"`
	Bytes int64  `json:"bytes"`
	Files int64  `json:"files"`
}

// userStat is one user folder's totals.
type userStat struct {
	id         string
	bytes      int64
	files      int64
	broadcasts int64
	joined     bool                // listed in users.jsonl
	req        export.UserRequests // its first export, as the export counts it
}

// EmptyUsers are the users with no broadcasts; each still gets an export.
func (c *Catalog) EmptyUsers() int { return c.Users - c.UsersWithBroadcasts }

// Scan reads src's catalog: users.jsonl, and one listing of broadcasts/.
// It never reads media. Each user's requests are counted for an export
// with default options (one part per user, no remuxing).
func Scan(ctx context.Context, src blob.Store) (*Catalog, error) {
	return ScanFor(ctx, src, export.RequestOptions{})
}

// ScanFor is Scan for an export run with opts.
func ScanFor(ctx context.Context, src blob.Store, opts export.RequestOptions) (*Catalog, error) {
	c := &Catalog{Source: src.String(), requests: opts, userProblems: map[string][]Problem{}}
	byUser, err := c.listBroadcasts(ctx, src)
	if err != nil {
		return nil, err
	}
	if err := c.readUsers(ctx, src, byUser); err != nil {
		return nil, err
	}
	for _, u := range byUser {
		if !u.joined {
			c.Orphans.Users++
			c.Orphans.Files += u.files
			c.Orphans.Bytes += u.bytes
		}
	}
	c.ScanRequests = 1 + blob.ListRequests(c.ListedObjects)
	c.Histogram = histogram(c.users, c.EmptyUsers())
	return c, nil
}

// folderLister is a store that lists each user's folder as the export
// reads it, reporting what it refuses (links out of the folder, FIFOs)
// instead of skipping it: a folder on disk.
type folderLister interface {
	ListEachFolder(ctx context.Context, prefix string, fn func(blob.Info, error) error) error
}

// listChecked lists with the refusals where the store has any.
func listChecked(ctx context.Context, src blob.Store, prefix string, fn func(blob.Info, error) error) error {
	if fl, ok := src.(folderLister); ok {
		return fl.ListEachFolder(ctx, prefix, fn)
	}
	return src.List(ctx, prefix, func(info blob.Info) error { return fn(info, nil) })
}

// listBroadcasts totals every user folder under broadcasts/ in one listing.
// Keys come in lexical order, so all objects of one broadcast folder are
// consecutive and a change of folder is a new broadcast. What the export
// would refuse or omit is kept as a problem of its user, not counted.
func (c *Catalog) listBroadcasts(ctx context.Context, src blob.Store) (map[string]*userStat, error) {
	byUser := map[string]*userStat{}
	var lastFolder string
	// A user's objects arrive together too: its requests are counted from
	// them when the next user's begin.
	var cur *userStat
	var objects []blob.Info
	count := func() {
		if cur != nil {
			cur.req = export.FirstExportRequests(cur.id, objects, c.requests)
		}
		objects = objects[:0]
	}
	err := listChecked(ctx, src, broadcastsPrefix, func(info blob.Info, err error) error {
		c.ListedObjects++
		if err != nil && !blob.IsRefused(err) {
			return err
		}
		rel := strings.TrimPrefix(info.Key, broadcastsPrefix)
		uid, rest, _ := strings.Cut(rel, "/")
		if err == nil && rest != "" {
			err = export.CheckSourcePath(rest)
		}
		if err != nil {
			var r *blob.RefusedError
			reason := err.Error()
			if errors.As(err, &r) {
				reason = r.Reason
			}
			p := Problem{Key: names.Visible(info.Key), Reason: reason}
			if !strings.HasPrefix(info.Key, broadcastsPrefix) {
				c.problem(p) // broadcasts/ itself: every user's problem
				return nil
			}
			c.userProblems[uid] = append(c.userProblems[uid], p)
			return nil
		}
		uid, bid, ok := splitKey(info.Key)
		if !ok {
			c.StrayKeys++
			return nil
		}
		u := byUser[uid]
		if u == nil {
			u = &userStat{id: uid}
			byUser[uid] = u
		}
		if u != cur {
			count()
			cur = u
		}
		objects = append(objects, info)
		u.files++
		u.bytes += info.Size
		if folder := uid + "/" + bid; folder != lastFolder {
			u.broadcasts++
			lastFolder = folder
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", where(src, broadcastsPrefix), err)
	}
	count()
	return byUser, nil
}

// where names a key of a store for a message: the store, a slash, the key.
func where(src blob.Store, key string) string {
	return strings.TrimSuffix(src.String(), "/") + "/" + key
}

// splitKey splits broadcasts/<user>/<broadcast>/<file...>.
func splitKey(key string) (uid, bid string, ok bool) {
	rest := strings.TrimPrefix(key, broadcastsPrefix)
	uid, rest, ok1 := strings.Cut(rest, "/")
	bid, file, ok2 := strings.Cut(rest, "/")
	return uid, bid, ok1 && ok2 && uid != "" && bid != "" && file != ""
}

// readUsers streams users.jsonl and joins each user with its folder.
// Duplicates are noticed only among users with broadcasts: catching them
// among the rest would mean holding every id in memory.
func (c *Catalog) readUsers(ctx context.Context, src blob.Store, byUser map[string]*userStat) error {
	rc, err := src.Get(ctx, export.UsersKey)
	if err != nil {
		return fmt.Errorf("source %s: %w", where(src, export.UsersKey), err)
	}
	defer rc.Close()
	return export.ReadUsers(ctx, rc, func(u export.User, lerr error) error {
		if lerr != nil {
			c.UnusableLines++
			c.problem(Problem{Key: export.UsersKey, Reason: lerr.Error()})
			return nil
		}
		for _, p := range c.userProblems[u.ID] {
			c.problem(p)
		}
		delete(c.userProblems, u.ID) // a duplicate line does not count them twice
		s := byUser[u.ID]
		switch {
		case s == nil:
			c.Users++
		case s.joined:
			c.UnusableLines++
		default:
			s.joined = true
			c.add(s)
		}
		return nil
	})
}

func (c *Catalog) add(s *userStat) {
	c.Users++
	c.UsersWithBroadcasts++
	c.Broadcasts += s.broadcasts
	c.Files += s.files
	c.Bytes += s.bytes
	if s.bytes > c.Largest.Bytes || c.Largest.ID == "" {
		c.Largest = UserSize{ID: s.id, Bytes: s.bytes, Files: s.files}
	}
	c.users = append(c.users, s)
}

// Bucket is one bar of the size histogram: users whose source bytes are in
// [Min, Max). The first bucket holds the users with nothing (Min = Max = 0).
type Bucket struct {
	Min   int64 `json:"min_bytes"`
	Max   int64 `json:"max_bytes"`
	Users int   `json:"users"`
	Bytes int64 `json:"bytes"`
}

// bucketOf is 0 for 0 bytes, and k for sizes in [4^(k-1), 4^k).
func bucketOf(size int64) int {
	if size <= 0 {
		return 0
	}
	return (bits.Len64(uint64(size))-1)/2 + 1
}

// bucketBounds is the [Min, Max) range of bucket k.
func bucketBounds(k int) (int64, int64) {
	if k == 0 {
		return 0, 0
	}
	lo := int64(1) << (2 * (k - 1))
	if k >= 32 { // 4^31 = 2^62 is the last bound that fits an int64
		return lo, 1<<63 - 1
	}
	return lo, lo << 2
}

// histogram lists the users with nothing to export, then every bucket from
// the smallest to the largest one that holds a user, so the gaps show.
func histogram(users []*userStat, empty int) []Bucket {
	counts := map[int]*Bucket{}
	lo, hi := -1, -1
	put := func(size int64, n int) {
		k := bucketOf(size)
		b := counts[k]
		if b == nil {
			b = &Bucket{}
			b.Min, b.Max = bucketBounds(k)
			counts[k] = b
		}
		b.Users += n
		b.Bytes += size * int64(n)
		if k > 0 && (lo < 0 || k < lo) {
			lo = k
		}
		hi = max(hi, k)
	}
	for _, u := range users {
		put(u.bytes, 1)
	}
	var out []Bucket
	if empty > 0 || counts[0] != nil {
		b := Bucket{}
		if z := counts[0]; z != nil {
			b = *z
		}
		b.Users += empty
		out = append(out, b)
	}
	if lo < 0 {
		return out
	}
	for k := lo; k <= hi; k++ {
		if b := counts[k]; b != nil {
			out = append(out, *b)
			continue
		}
		b := Bucket{}
		b.Min, b.Max = bucketBounds(k)
		out = append(out, b)
	}
	return out
}
