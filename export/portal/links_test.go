package portal

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
)

func TestLinks(t *testing.T) {
	dst := localExport(t, export.Options{})
	s := testSigner(t)
	now := time.Date(2021, 3, 1, 12, 0, 0, 500, time.UTC)
	var links []Link
	err := Links(context.Background(), dst, s, LinkOptions{BaseURL: "https://download.example.com/", Now: func() time.Time { return now }},
		func(l Link) error { links = append(links, l); return nil })
	if err != nil {
		t.Fatal(err)
	}
	users, _ := export.ListExported(context.Background(), dst)
	if len(links) != len(users) || len(users) != 10 {
		t.Fatalf("%d links for %d exports", len(links), len(users))
	}
	for i, l := range links {
		m := manifest(t, dst, users[i])
		u, err := url.Parse(l.URL)
		if err != nil || u.Scheme != "https" || u.Host != "download.example.com" || u.Path != "/u/"+users[i] {
			t.Fatalf("link %q", l.URL)
		}
		wantExp := now.Add(DefaultLinkTTL).Truncate(time.Second)
		exp, err := s.Verify(users[i], u.Query().Get("token"), now)
		if l.UserID != users[i] || err != nil || !exp.Equal(wantExp) || !l.ExpiresAt.Equal(wantExp) ||
			l.Parts != len(m.Parts) || l.Bytes != m.Bytes {
			t.Fatalf("link %+v: token %v", l, err)
		}
	}
}

func TestLinksUsersAndErrors(t *testing.T) {
	dst := localExport(t, export.Options{})
	s := testSigner(t)
	var got, notReady []string
	err := Links(context.Background(), dst, s, LinkOptions{BaseURL: "http://127.0.0.1:8080", TTL: time.Hour,
		Users: []string{"heidi", "nobody", "alice"}, NotReady: func(u string) { notReady = append(notReady, u) }},
		func(l Link) error { got = append(got, l.UserID); return nil })
	if err != nil || strings.Join(got, ",") != "heidi,alice" || strings.Join(notReady, ",") != "nobody" {
		t.Fatalf("links %v, not ready %v, err %v", got, notReady, err)
	}
	for _, base := range []string{"", "download.example.com", "ftp://x", "https://x/?a=b", "https:///path"} {
		err := Links(context.Background(), dst, s, LinkOptions{BaseURL: base}, func(Link) error { return nil })
		if err == nil {
			t.Errorf("base URL %q accepted", base)
		}
	}
	err = Links(context.Background(), dst, s, LinkOptions{BaseURL: "https://x", Users: []string{"../etc"}}, func(Link) error { return nil })
	if err == nil {
		t.Error("an invalid user id reached the store")
	}
}

func TestRowWriter(t *testing.T) {
	exp := time.Date(2021, 3, 31, 7, 0, 0, 0, time.UTC)
	l := Link{UserID: "zoe-aero", URL: "https://x/u/zoe-aero?token=1.a", ExpiresAt: exp, Parts: 2, Bytes: 1234}
	var b bytes.Buffer
	w := NewRowWriter[Link](&b, CSV)
	w.Write(l)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	want := [][]string{{"user_id", "url", "expires_at", "parts", "bytes"},
		{"zoe-aero", l.URL, "2021-03-31T07:00:00Z", "2", "1234"}}
	if err != nil || len(recs) != 2 || strings.Join(recs[0], ",") != strings.Join(want[0], ",") ||
		strings.Join(recs[1], ",") != strings.Join(want[1], ",") {
		t.Fatalf("CSV %v %v", recs, err)
	}
	b.Reset()
	w = NewRowWriter[Link](&b, JSONL)
	w.Write(l)
	w.Write(l)
	w.Close()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var back Link
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &back) != nil || back != l ||
		!strings.Contains(lines[0], `"expires_at":"2021-03-31T07:00:00Z"`) {
		t.Fatalf("JSONL %q", b.String())
	}
	// No rows still gives a header, so the mailer's parser sees the columns.
	b.Reset()
	pw := NewRowWriter[PartLink](&b, CSV)
	pw.Close()
	if b.String() != "user_id,part,parts,file,url,expires_at,bytes,sha256\n" {
		t.Fatalf("empty CSV %q", b.String())
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Fatal("format xml accepted")
	}
}

// A part name from manifest.json goes through the same check as the
// export's entry names: one that could disguise itself is refused.
func TestCheckPartKeyRefusesDeceptiveNames(t *testing.T) {
	for _, key := range []string{"alice/periscope-alice\u202Epiz.exe.zip", "alice/periscope\u200B-alice.zip",
		"alice/a\nb.zip", "alice/\xff.zip"} {
		err := checkPartKey("alice", key)
		if err == nil {
			t.Errorf("checkPartKey(%q) accepted it", key)
		} else if strings.ContainsAny(err.Error(), "\u202E\u200B\n") {
			t.Errorf("the error %q carries the character it refuses", err)
		}
	}
	if err := checkPartKey("alice", "alice/periscope-alice.zip"); err != nil {
		t.Fatal(err)
	}
}
