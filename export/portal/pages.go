package portal

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

//go:embed pages.html
var pagesSource string

// pageCSS is the only style of every page. It is inline, allowed by its
// hash in the Content-Security-Policy, so the pages load nothing else.
const pageCSS = `
body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 56rem; margin: 0 auto; padding: 1rem; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.6rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: bold; padding: .25rem 0; }
th, td { border: 1px solid #bbb; padding: .4rem .6rem; text-align: left; vertical-align: top; }
td code { word-break: break-all; font-size: .85rem; }
td.size { white-space: nowrap; }
a { color: #0645ad; }
a:focus { outline: 3px solid #1a1a1a; outline-offset: 2px; }
code { background: #f3f3f3; padding: 0 .2rem; }
`

// contentSecurityPolicy lets a page use its own inline style and nothing
// else: no scripts, no images, no fonts, no frames, no forms.
var contentSecurityPolicy = "default-src 'none'; style-src '" + cssHash() + "'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func cssHash() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"css": func() template.CSS { return template.CSS(pageCSS) },
}).Parse(pagesSource))

// page is what every page shows; the user page fills the rest.
type page struct {
	Title      string
	Name       string
	Broadcasts int
	Parts      []partRow
	TotalSize  string
	Expires    string
	ExpiresISO string
	SumsURL    string
	Example    string // a file name for the checksum commands
}

type partRow struct {
	File, URL, Size, SHA256 string
}

func withExpiry(p page, expiry time.Time) page {
	p.Expires = expiry.UTC().Format("2 January 2006, 15:04 UTC")
	p.ExpiresISO = expiry.UTC().Format(time.RFC3339)
	return p
}

// renderPage executes a page template whole before anything is written,
// so a template error becomes a clean 500.
func renderPage(name string, p page) ([]byte, error) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, p); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// mustRender renders a page that depends on nothing but its title.
func mustRender(name, title string) []byte {
	b, err := renderPage(name, page{Title: title})
	if err != nil {
		panic(err)
	}
	return b
}

// Static pages, rendered once. forbiddenPage in particular is the same
// bytes for every refused token, whatever the reason.
var (
	forbiddenPage   = mustRender("forbidden", "This link does not work")
	notFoundPage    = mustRender("notfound", "Page not found")
	rateLimitedPage = mustRender("ratelimited", "Too many requests")
	errorPage       = mustRender("error", "Something went wrong")
	homePage        = mustRender("home", "Periscope archive downloads")
)

func writePage(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
