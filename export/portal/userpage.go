package portal

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/periscope-sunset/periscope-sunset/export"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/names"
	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

// profilePath is where the bag keeps the user's profile.
const profilePath = "data/profile.json"

// maxProfile bounds the profile read into memory.
const maxProfile = 1 << 20

// userPage shows a user's parts with their sizes and checksums, and how to
// check and open them.
func (h *Handler) userPage(w http.ResponseWriter, r *http.Request) {
	user, expiry, m, ok := h.authorizedManifest(w, r)
	if !ok {
		return
	}
	name := displayName(r.Context(), h.dst, m)
	if name == "" {
		name = user
	}
	// Links are relative to /u/, so the portal also works below a path
	// prefix of a proxy.
	q := "?token=" + url.QueryEscape(r.URL.Query().Get("token"))
	p := withExpiry(page{
		Title:      "Periscope archive of " + name,
		Name:       name,
		Broadcasts: m.Broadcasts,
		TotalSize:  units.Bytes(m.Bytes),
		SumsURL:    user + "/SHA256SUMS" + q,
	}, expiry)
	for i, part := range m.Parts {
		// A name from the manifest is shown only as names.Visible
		// writes it, so no character in it can disguise the file.
		file := names.Visible(path.Base(part.Key))
		p.Parts = append(p.Parts, partRow{File: file, URL: fmt.Sprintf("%s/parts/%d%s", user, i+1, q),
			Size: units.Bytes(part.Size), SHA256: part.SHA256})
	}
	p.Example = "periscope-" + user + ".zip"
	if len(p.Parts) > 0 {
		p.Example = p.Parts[0].File
	}
	body, err := renderPage("user", p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writePage(w, http.StatusOK, body)
}

// sums answers the parts' checksums in the format of sha256sum, so that
// `sha256sum -c SHA256SUMS` checks a download.
func (h *Handler) sums(w http.ResponseWriter, r *http.Request) {
	_, _, m, ok := h.authorizedManifest(w, r)
	if !ok {
		return
	}
	var b strings.Builder
	for _, part := range m.Parts {
		fmt.Fprintf(&b, "%s  %s\n", part.SHA256, names.Visible(path.Base(part.Key)))
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("Content-Disposition", `attachment; filename="SHA256SUMS"`)
	hd.Set("Cache-Control", "no-store")
	io.WriteString(w, b.String())
}

// displayName reads the user's display name from data/profile.json in the
// part that holds it (the manifest does not keep it), falling back to the
// username; "" when neither can be read. Only the zip's directory and that
// one file are read, with ranged reads on S3.
func displayName(ctx context.Context, dst blob.Store, m *export.Manifest) string {
	n := 0
	for _, f := range m.Files {
		if f.Path == profilePath {
			n = f.Part
		}
	}
	if n < 1 || n > len(m.Parts) {
		return ""
	}
	ra, err := dst.Open(ctx, m.Parts[n-1].Key)
	if err != nil {
		return ""
	}
	defer ra.Close()
	zr, err := zip.NewReader(ra, ra.Size())
	if err != nil {
		return ""
	}
	rc, err := zr.Open(profilePath)
	if err != nil {
		return ""
	}
	defer rc.Close()
	var profile struct {
		DisplayName string `json:"display_name"`
		Username    string `json:"username"`
	}
	if json.NewDecoder(io.LimitReader(rc, maxProfile)).Decode(&profile) != nil {
		return ""
	}
	if s := strings.TrimSpace(profile.DisplayName); s != "" {
		return s
	}
	return strings.TrimSpace(profile.Username)
}
