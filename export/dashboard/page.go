package dashboard

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/periscope-sunset/periscope-sunset/internal/units"
)

//go:embed page.html
var pageFS embed.FS

var page = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"when":   when,
	"bytes":  func(n int64) string { return units.Bytes(n) },
	"redact": Redact,
	"pct":    pct,
	"chart":  chart,
	"join":   strings.Join,
}).ParseFS(pageFS, "page.html"))

type pageData struct {
	S       *Snapshot
	Err     string
	Refresh int
}

func render(w io.Writer, s *Snapshot, err error) error {
	d := pageData{S: s, Refresh: 30}
	if err != nil {
		d.Err = Redact(err.Error())
	}
	return page.Execute(w, d)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func pct(n, total int) string {
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}

// chart draws the cumulative users exported as an inline SVG polyline.
func chart(pts []Point) template.HTML {
	const w, h, pad = 600, 160, 4
	if len(pts) < 2 {
		return ""
	}
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	top := 1
	for _, p := range pts {
		top = max(top, p.Users)
	}
	span := max(t1.Sub(t0).Seconds(), 1e-3) // a test run lasts milliseconds
	var b strings.Builder
	for _, p := range pts {
		x := pad + (w-2*pad)*p.At.Sub(t0).Seconds()/span
		y := h - pad - float64(h-2*pad)*float64(p.Users)/float64(top)
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	// Only numbers reach the SVG: the markup is safe to emit as is.
	return template.HTML(fmt.Sprintf(`<svg viewBox="0 0 %d %d" role="img" aria-label="users exported over time, %d at most" class="chart">`+
		`<rect x="0" y="0" width="%d" height="%d" fill="#f6f8fa"/>`+
		`<polyline fill="none" stroke="#0969da" stroke-width="2" points="%s"/>`+
		`<text x="%d" y="14" font-size="12">%d users</text>`+
		`<text x="%d" y="%d" font-size="11">%s</text>`+
		`<text x="%d" y="%d" font-size="11" text-anchor="end">%s</text></svg>`,
		w, h, top, w, h, strings.TrimSpace(b.String()), pad+2, top,
		pad+2, h-pad-2, when(t0), w-pad-2, h-pad-2, when(t1)))
}
