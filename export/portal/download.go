package portal

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/periscope-sunset/periscope-sunset/export"
)

// auditTimeout bounds the audit write of one download; it runs even if
// the client goes away meanwhile.
const auditTimeout = 10 * time.Second

// part downloads one part: a redirect to a fresh presigned URL on S3, or
// the file itself, with Range support, from a local folder.
func (h *Handler) part(w http.ResponseWriter, r *http.Request) {
	user, _, m, ok := h.authorizedManifest(w, r)
	if !ok {
		return
	}
	raw := r.PathValue("n")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > len(m.Parts) || strconv.Itoa(n) != raw {
		writePage(w, http.StatusNotFound, notFoundPage)
		return
	}
	p := m.Parts[n-1]
	d := Download{User: user, Part: n, Parts: len(m.Parts), Key: p.Key, Bytes: p.Size}
	if h.opts.Presigner != nil {
		h.redirect(w, r, p, d)
		return
	}
	h.stream(w, r, m, p, d)
}

func (h *Handler) audit(ctx context.Context, d Download) {
	if h.opts.OnDownload == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if err := h.opts.OnDownload(ctx, d); err != nil {
		h.opts.Log.Error("audit download", "user", d.User, "part", d.Part, "err", err)
	}
}

// redirect hands out a presigned URL and records that it did (a GET, not
// a HEAD): the bytes then flow from S3, out of the portal's sight, so
// this is a download begun, never one known to be complete.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, p export.PartRecord, d Download) {
	u, err := h.opts.Presigner.PresignGet(r.Context(), p.Key, path.Base(p.Key), h.opts.PresignTTL)
	if err != nil {
		h.fail(w, r, fmt.Errorf("presign %s: %w", p.Key, err))
		return
	}
	if r.Method == http.MethodGet {
		d.Via = ViaRedirect
		h.audit(r.Context(), d)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// stream serves a part from the store. http.ServeContent answers Range
// and If-Range (against the ETag, the part's SHA-256) and HEAD. The
// download is recorded only once the response has written the part's
// last byte to the connection (served).
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, m *export.Manifest, p export.PartRecord, d Download) {
	ra, err := h.dst.Open(r.Context(), p.Key)
	if err != nil {
		h.fail(w, r, fmt.Errorf("open %s: %w", p.Key, err))
		return
	}
	defer ra.Close()
	if ra.Size() != p.Size {
		// Rewritten since the manifest was read (an export being redone):
		// the bytes would not match the checksum on the page.
		h.fail(w, r, fmt.Errorf("%s: size %d, manifest says %d", p.Key, ra.Size(), p.Size))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/zip")
	hd.Set("Content-Disposition", `attachment; filename="`+path.Base(p.Key)+`"`)
	hd.Set("ETag", `"`+p.SHA256+`"`)
	hd.Set("Cache-Control", "private, no-store")
	modTime, _ := time.Parse(time.RFC3339, m.CreatedAt)
	cw := &countingWriter{ResponseWriter: w}
	http.ServeContent(cw, r, path.Base(p.Key), modTime, io.NewSectionReader(ra, 0, ra.Size()))
	if from, ok := served(cw, r, p.Size); ok {
		d.Via, d.From, d.Served = ViaStream, from, cw.n
		h.audit(r.Context(), d)
	}
}
