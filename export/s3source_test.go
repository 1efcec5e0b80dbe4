package export

import (
	"context"
	"strings"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/testutil/s3test"
)

// On S3 there are no links: alice's export reads only keys under her
// prefix, and her folder's view refuses bob's keys and keys with ".."
// parts. (versitygw resolves ".." in a key before storing it, so such a
// key cannot be stored here; blob's TestFolderByKey covers the view.)
func TestS3SourceKeysStayInTheirUsersFolder(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	src := srv.Store(t, bucket, "src")
	ctx := context.Background()
	put := func(key, body string) {
		t.Helper()
		if _, err := src.Put(ctx, key, strings.NewReader(body), blob.PutOptions{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put(UsersKey, `{"id":"alice"}`+"\n"+`{"id":"bob"}`+"\n")
	put("broadcasts/alice/b1/broadcast.json", `{}`)
	put("broadcasts/bob/b1/broadcast.json", `{"title":"bob's"}`)
	put("broadcasts/bob/b1/secret.txt", "bob's secret")
	put("broadcasts/alice/b1/clip\u202Egpj.exe", "x")
	dst := srv.Store(t, bucket, "out")
	rep := runExport(t, src, dst, Options{})
	if rep.Users.Failed != 0 || rep.Users.Exported != 2 {
		t.Fatalf("report %+v", rep.Users)
	}
	m, err := ReadManifest(ctx, dst, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		if strings.Contains(f.Path, "secret") || strings.Contains(f.Path, "\u202E") {
			t.Errorf("alice's export holds %s", f.Path)
		}
	}
	if len(m.Omitted) != 1 || !strings.Contains(m.Omitted[0].Path, `clip\u202Egpj.exe`) {
		t.Errorf("alice's omissions %+v, want the deceptive name", m.Omitted)
	}
	// The view of alice's folder refuses bob's keys and ".." keys outright.
	f, err := blob.OpenFolder(src, userPrefix("alice"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"broadcasts/bob/b1/secret.txt", "broadcasts/alice/../bob/b1/secret.txt"} {
		if _, err := f.Get(ctx, key); !blob.IsRefused(err) {
			t.Errorf("Get %s through alice's folder = %v, want a refusal", key, err)
		}
	}
}
