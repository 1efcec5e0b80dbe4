package purge_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/export/purge"
	"github.com/periscope-sunset/periscope-sunset/fixtures"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// backends returns a fresh destination per backend: a local folder and a
// bucket on a real S3 server.
func backends(t *testing.T) map[string]func(t *testing.T) blob.Store {
	return map[string]func(t *testing.T) blob.Store{
		"file": func(t *testing.T) blob.Store {
			st, err := blob.NewFile(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		"s3": func(t *testing.T) blob.Store {
			srv := s3test.Start(t)
			return srv.Store(t, srv.NewBucket(t), "exports/2021")
		},
	}
}

// exported fills dst with an export of the sample plus what other commands
// leave in user folders, and one object outside any user folder.
func exported(t *testing.T, dst blob.Store) {
	t.Helper()
	p, err := fixtures.SamplePath()
	if err != nil {
		t.Fatal(err)
	}
	src, err := blob.NewFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := export.Run(context.Background(), src, dst, export.Options{Remux: export.RemuxNever}); err != nil {
		t.Fatalf("export the sample: %v", err)
	}
	for _, k := range []string{"alice/.notify.json", "bob_1/.claim.json", "README.txt", "not a user/x"} {
		put(t, dst, k, "{}")
	}
}

func put(t *testing.T, dst blob.Store, key, body string) {
	t.Helper()
	if _, err := dst.Put(context.Background(), key, strings.NewReader(body), blob.PutOptions{}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// keys lists dst: user keys with their total size, and the others.
func keys(t *testing.T, dst blob.Store) (user map[string]int64, other []string) {
	t.Helper()
	user = map[string]int64{}
	err := dst.List(context.Background(), "", func(i blob.Info) error {
		uid, _, _ := strings.Cut(i.Key, "/")
		if export.ValidID(uid) && uid+"/" != export.RunsPrefix {
			user[i.Key] = i.Size
		} else {
			other = append(other, i.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return user, other
}

func TestPurge(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			dst := open(t)
			exported(t, dst)
			before, otherBefore := keys(t, dst)
			var bytes int64
			for _, n := range before {
				bytes += n
			}

			dry, err := purge.Run(context.Background(), dst, purge.Options{DryRun: true})
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if dry.Objects != len(before) || dry.Bytes != bytes {
				t.Fatalf("dry run counts %d objects, %d bytes; the user folders hold %d, %d", dry.Objects, dry.Bytes, len(before), bytes)
			}
			if after, _ := keys(t, dst); len(after) != len(before) {
				t.Fatalf("a dry run deleted %d objects", len(before)-len(after))
			}

			rep, err := purge.Run(context.Background(), dst, purge.Options{})
			if err != nil {
				t.Fatalf("purge: %v", err)
			}
			after, other := keys(t, dst)
			if len(after) != 0 {
				t.Fatalf("left in user folders: %v", after)
			}
			if rep.Objects != len(before) || rep.Bytes != bytes || len(rep.Users) != 10 {
				t.Errorf("report: %d objects, %d bytes, %d users; want %d, %d, 10", rep.Objects, rep.Bytes, len(rep.Users), len(before), bytes)
			}
			want := append(append([]string{}, otherBefore...), rep.Key())
			if !sameSet(other, want) {
				t.Errorf("outside user folders: %v, want %v (run reports and foreign objects left, the purge report added)", other, want)
			}
			t.Logf("%s: purged %d users, %d objects, %d bytes; left %v", name, len(rep.Users), rep.Objects, rep.Bytes, other)

			again, err := purge.Run(context.Background(), dst, purge.Options{})
			if err != nil || again.Objects != 0 {
				t.Fatalf("second purge: %d objects, %v; want nothing to do", again.Objects, err)
			}
		})
	}
}

// TestPurgeCrashAndRerun: a purge that dies mid-way never leaves a user
// who looks complete with parts missing, and a rerun finishes it.
func TestPurgeCrashAndRerun(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			dst := open(t)
			exported(t, dst)
			for _, n := range []int64{0, 1, 4, 9} {
				broken := &failAfter{Store: dst}
				broken.left.Store(n)
				_, err := purge.Run(context.Background(), broken, purge.Options{Workers: 2})
				var partial *export.PartialError
				if !errors.As(err, &partial) {
					t.Fatalf("purge failing after %d deletes: err %v, want a partial error", n, err)
				}
				checkNoHalfUser(t, dst)
			}
			if _, err := purge.Run(context.Background(), dst, purge.Options{}); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if after, _ := keys(t, dst); len(after) != 0 {
				t.Fatalf("after the rerun, left in user folders: %v", after)
			}
		})
	}
}

// checkNoHalfUser fails if a user still has manifest.json but lost a part.
func checkNoHalfUser(t *testing.T, dst blob.Store) {
	t.Helper()
	users, err := export.ListExported(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		m, err := export.ReadManifest(context.Background(), dst, u)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Parts {
			if _, err := dst.Stat(context.Background(), p.Key); err != nil {
				t.Fatalf("user %s has manifest.json but part %s is gone: %v", u, p.Key, err)
			}
		}
	}
}

type failAfter struct {
	blob.Store
	left atomic.Int64
}

func (f *failAfter) Delete(ctx context.Context, key string) error {
	if f.left.Add(-1) < 0 {
		return errors.New("injected failure")
	}
	return f.Store.Delete(ctx, key)
}

func TestPurgeOneUser(t *testing.T) {
	dst := backends(t)["file"](t)
	exported(t, dst)
	if _, err := purge.Run(context.Background(), dst, purge.Options{Users: []string{"_runs"}}); err == nil {
		t.Fatal("purge --user _runs was accepted")
	}
	rep, err := purge.Run(context.Background(), dst, purge.Options{Users: []string{"alice", "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Users) != 1 || rep.Users[0].User != "alice" || rep.Objects == 0 {
		t.Fatalf("report: %+v", rep.Users)
	}
	users, _ := export.ListExported(context.Background(), dst)
	if len(users) != 9 || contains(users, "alice") {
		t.Fatalf("after purging alice, exported users: %v", users)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range b {
		if !contains(a, x) {
			return false
		}
	}
	return true
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// TestPurgeAbortsUnfinishedUploads: parts of an upload a killed export
// left behind hold user data too; purge aborts them on S3.
func TestPurgeAbortsUnfinishedUploads(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	dst := srv.Store(t, bucket, "exports")
	put(t, dst, "alice/manifest.json", "{}")
	// alice's killed export left an upload beside her objects; bob's died
	// during his first part, so he has no object at all.
	for _, key := range []string{"exports/alice/periscope-alice.zip", "exports/bob/periscope-bob.zip"} {
		_, err := srv.Client(t).CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := purge.Run(context.Background(), dst, purge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	left, err := dst.ListIncompleteUploads(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 || len(rep.Users) != 2 || rep.Users[0].AbortedUploads != 1 || rep.Users[1].AbortedUploads != 1 {
		t.Fatalf("after purge: unfinished uploads %v, report %+v; want none left, 1 aborted for each user", left, rep.Users)
	}
}
