package gate

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// Rails (Rack::MethodOverride) and Laravel also take the method from a
// _method field in the body of a form POST. The gate reads it only when it
// could change the answer (a POST that passes, where some other method on
// the same path would not), up to maxFormPeek bytes, and gives the body
// back to the app whole.

// methodAny stands for a method the gate could not learn: a form too
// large to read, or one it cannot parse. Like a WebSocket, every route on
// the path refuses it, and only an ANY entry allows it.
const methodAny = "*"

// maxFormPeek is how much of a form body the gate reads to find _method.
const maxFormPeek = 1 << 20

// isFormPost reports a POST whose body a framework may read as a form.
func isFormPost(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.EqualFold(r.Method, http.MethodPost) && strings.Contains(ct, "form")
}

// formOverrides returns the _method fields of r's form body (methodAny if
// it cannot tell) and puts the body back for the app.
func formOverrides(r *http.Request) []string {
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxFormPeek+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if err != nil || len(buf) > maxFormPeek {
		return []string{methodAny}
	}
	fields, ok := formMethodFields(r.Header.Get("Content-Type"), buf)
	if !ok {
		return []string{methodAny}
	}
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		if f = strings.ToUpper(strings.TrimSpace(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// formMethodFields parses body as the form Content-Type ct names.
func formMethodFields(ct string, body []byte) ([]string, bool) {
	media, params, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		return nil, false
	case media == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		return vals["_method"], err == nil
	case media == "multipart/form-data" && params["boundary"] != "":
		var out []string
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return out, true
			}
			if err != nil {
				return nil, false
			}
			if part.FormName() == "_method" {
				v, _ := io.ReadAll(io.LimitReader(part, 64))
				out = append(out, string(v))
			}
		}
	}
	return nil, false
}
