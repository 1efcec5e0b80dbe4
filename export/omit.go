package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/names"
)

// OmittedName is the bag file that lists what a user's export left out;
// it exists only when something was.
const OmittedName = "data/omitted.json"

// Omission is a broadcast or a single file that could not be exported
// safely and was left out, so that the rest of the user's export could be
// written. Path is the source key (as names.Visible writes it); Broadcast
// is set when the omission concerns one broadcast.
type Omission struct {
	Broadcast string `json:"broadcast_id,omitempty"`
	Path      string `json:"path,omitempty"`
	Reason    string `json:"reason"`
}

func (o Omission) String() string {
	if o.Path == "" {
		return o.Reason
	}
	return o.Path + ": " + o.Reason
}

// omitter collects a user's omissions while the plan is made: those of
// single files by broadcast, and whole broadcasts, which replace the
// omissions of their files.
type omitter struct {
	files      map[string][]Omission // by broadcast id; "" for files outside any
	broadcasts map[string]Omission
	badFolders map[string]bool // folders whose name is not a broadcast id
}

func newOmitter() *omitter {
	return &omitter{files: map[string][]Omission{}, broadcasts: map[string]Omission{}, badFolders: map[string]bool{}}
}

// file records that one listed entry is left out; bid is "" when the
// entry is not inside a valid broadcast folder.
func (om *omitter) file(bid, key string, err error) Omission {
	o := Omission{Broadcast: bid, Path: names.Visible(key), Reason: reasonOf(err)}
	om.files[bid] = append(om.files[bid], o)
	return o
}

// folder records, once, a folder under the user's whose name is not a
// broadcast id: everything in it is left out.
func (om *omitter) folder(key string, err error) (Omission, bool) {
	if om.badFolders[key] {
		return Omission{}, false
	}
	om.badFolders[key] = true
	return om.file("", key, err), true
}

// broadcast records that a whole broadcast is left out. When its
// broadcast.json was itself refused, that is the reason given.
func (om *omitter) broadcast(bid, dir string, err error) {
	o := Omission{Broadcast: bid, Path: names.Visible(dir), Reason: reasonOf(err)}
	for _, f := range om.files[bid] {
		if strings.HasSuffix(f.Path, "/broadcast.json") {
			o.Reason = "broadcast.json: " + f.Reason
		}
	}
	om.broadcasts[bid] = o
}

// list returns every omission in a stable order: by broadcast, then path.
func (om *omitter) list() []Omission {
	var out []Omission
	for bid, fs := range om.files {
		if _, whole := om.broadcasts[bid]; !whole {
			out = append(out, fs...)
		}
	}
	for _, o := range om.broadcasts {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b Omission) int {
		if c := strings.Compare(a.Broadcast, b.Broadcast); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	return out
}

// reasonOf is the reason an error gives, without the key a refusal names
// (the omission's path holds it, made visible).
func reasonOf(err error) string {
	var r *blob.RefusedError
	if errors.As(err, &r) {
		return r.Reason
	}
	return err.Error()
}

// omittable tells a problem of the source, which costs only the broadcast
// or file it concerns, from one that may pass (throttling, a timeout) or
// ends the run, which must fail the user so it is tried again.
func omittable(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !blob.IsTransient(err) && !errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded)
}

// strictError fails a user that has omissions when --strict asks for it.
func strictError(omitted []Omission) error {
	if len(omitted) == 0 {
		return nil
	}
	s := fmt.Sprintf("%d omission(s) and --strict: %s", len(omitted), omitted[0])
	if len(omitted) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(omitted)-1)
	}
	return errors.New(s)
}
