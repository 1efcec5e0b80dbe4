package portal

import (
	"fmt"
	"net/http"
	"strconv"
)

// countingWriter counts the body bytes a response wrote and keeps the
// first write error.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
	err    error
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// served reports whether a response to a GET served the last byte of a
// part of size bytes, and from which offset: a 200 with the whole body, or
// a 206 with one range ending at the last byte and all of that range's
// bytes, written and flushed to the connection without error. So a full
// download or a resumption that finishes one counts, a probe of the first
// bytes (Range: bytes=0-0), a HEAD, a 304 or a client that went away
// mid-body does not. Multi-range answers (multipart/byteranges, which no
// browser sends for a download) never count. The portal cannot see past
// the connection: a flushed last byte the client then drops still counts.
func served(w *countingWriter, r *http.Request, size int64) (from int64, ok bool) {
	if r.Method != http.MethodGet || w.err != nil {
		return 0, false
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		return 0, false
	}
	switch w.status {
	case http.StatusOK:
		return 0, w.n == size
	case http.StatusPartialContent:
		first, last, total, err := parseContentRange(w.Header().Get("Content-Range"))
		return first, err == nil && total == size && last == size-1 && w.n == last-first+1
	}
	return 0, false
}

// parseContentRange reads the "bytes FIRST-LAST/TOTAL" that
// http.ServeContent sets on a single-range answer.
func parseContentRange(v string) (first, last, total int64, err error) {
	var rest string
	if _, err = fmt.Sscanf(v, "bytes %d-%d/%s", &first, &last, &rest); err != nil {
		return 0, 0, 0, fmt.Errorf("Content-Range %q: %w", v, err)
	}
	total, err = strconv.ParseInt(rest, 10, 64)
	return first, last, total, err
}
