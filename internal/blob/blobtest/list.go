package blobtest

import (
	"context"
	"errors"
	"testing"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// listKeysSet holds names whose lexical order differs from the order of a
// folder-by-folder walk: '-' (0x2d) sorts before '/' (0x2f), so "a/b-x"
// comes before everything in folder "a/b".
var listKeysSet = []string{
	"a-c",
	"a/b-x",
	"a/b/c",
	"a/b/d/e",
	"a/bc",
	"a0",
	"b",
}

func testList(t *testing.T, st blob.Store) {
	equalKeys(t, "List of an empty store", listKeys(t, st, ""), []string{})
	for i := len(listKeysSet) - 1; i >= 0; i-- { // write out of order
		put(t, st, listKeysSet[i], []byte(listKeysSet[i]), blob.PutOptions{})
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", listKeysSet},
		{"a", listKeysSet[:6]},
		{"a/", []string{"a/b-x", "a/b/c", "a/b/d/e", "a/bc"}},
		{"a/b", []string{"a/b-x", "a/b/c", "a/b/d/e", "a/bc"}}, // ends mid-name
		{"a/b/", []string{"a/b/c", "a/b/d/e"}},                 // not a/bc
		{"a/b/d", []string{"a/b/d/e"}},
		{"a/b-", []string{"a/b-x"}},
		{"a/bc", []string{"a/bc"}},
		{"b", []string{"b"}},
		{"c", []string{}},
		{"a/b/d/e/f", []string{}},
	}
	for _, c := range cases {
		equalKeys(t, "List "+c.prefix, listKeys(t, st, c.prefix), c.want)
	}
	err := st.List(context.Background(), "a/b/", func(i blob.Info) error {
		if i.Size != int64(len(i.Key)) || i.ETag == "" {
			t.Errorf("List gave %+v, want size %d and an ETag", i, len(i.Key))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testListStops(t *testing.T, st blob.Store) {
	for _, k := range listKeysSet {
		put(t, st, k, []byte(k), blob.PutOptions{})
	}
	stop := errors.New("stop")
	calls := 0
	err := st.List(context.Background(), "", func(blob.Info) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List = %v after %d calls, want the callback's error after 1", err, calls)
	}
}
