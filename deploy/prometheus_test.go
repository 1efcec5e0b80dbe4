package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/periscope-sunset/periscope-sunset/export/dashboard"
	"github.com/periscope-sunset/periscope-sunset/internal/blob"
	"github.com/periscope-sunset/periscope-sunset/internal/metrics"
)

// The alert rules are parsed by Prometheus's own rule parser (the code
// promtool check rules runs, pinned in go.mod), unknown fields refused, and
// every expression's metric names must be ones the tool registers: a
// renamed metric fails here, not silently in production.

func promParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// registeredNames is every metric name the processes and the dashboard
// can expose.
func registeredNames(t *testing.T) []string {
	t.Helper()
	reg := metrics.New(blob.NewBudget(8 << 20))
	if err := reg.Register(metrics.Fleet(func() *dashboard.Snapshot { return nil })); err != nil {
		t.Fatal(err)
	}
	names := reg.Names()
	if len(names) < 10 {
		t.Fatalf("registry lists only %d names: %v", len(names), names)
	}
	return names
}

// metricNames returns the metric names an expression selects.
func metricNames(t *testing.T, where, expr string) []string {
	t.Helper()
	e, err := promParser().ParseExpr(expr)
	if err != nil {
		t.Fatalf("%s: %q: %v", where, expr, err)
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	if len(names) == 0 {
		t.Errorf("%s: %q selects no metric", where, expr)
	}
	return names
}

func TestAlertRulesParseAndUseRegisteredMetrics(t *testing.T) {
	groups, errs := rulefmt.ParseFile("prometheus/alerts.yml", false, model.UTF8Validation, promParser(), nil)
	for _, err := range errs {
		t.Errorf("prometheus/alerts.yml: %v", err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	known := registeredNames(t)
	alerts := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
			if r.Annotations["summary"] == "" || r.Labels["severity"] == "" {
				t.Errorf("alert %s: want a severity label and a summary", r.Alert)
			}
			for _, name := range metricNames(t, "alert "+r.Alert, r.Expr) {
				if !slices.Contains(known, name) {
					t.Errorf("alert %s uses %s, which no periscope-sunset process registers", r.Alert, name)
				}
			}
		}
	}
	for _, want := range []string{"ExportFailuresRising", "ExportStalled", "S3ThrottlingHigh", "PortalServerErrors", "SignupGateRefusalsAbsent"} {
		if !alerts[want] {
			t.Errorf("alert %s missing from prometheus/alerts.yml", want)
		}
	}
}

// grafanaDashboard is the part of Grafana's dashboard model the file uses,
// decoded with unknown fields refused.
type grafanaDashboard struct {
	Inputs        []map[string]string `json:"__inputs"`
	Title         string              `json:"title"`
	UID           string              `json:"uid"`
	Tags          []string            `json:"tags"`
	Timezone      string              `json:"timezone"`
	SchemaVersion int                 `json:"schemaVersion"`
	Version       int                 `json:"version"`
	Editable      bool                `json:"editable"`
	Refresh       string              `json:"refresh"`
	Time          struct{ From, To string }
	Templating    struct{ List []any } `json:"templating"`
	Annotations   struct{ List []any } `json:"annotations"`
	Panels        []struct {
		ID          int                      `json:"id"`
		Title       string                   `json:"title"`
		Type        string                   `json:"type"`
		Datasource  map[string]string        `json:"datasource"`
		GridPos     struct{ X, Y, W, H int } `json:"gridPos"`
		FieldConfig struct {
			Defaults  map[string]any `json:"defaults"`
			Overrides []any          `json:"overrides"`
		} `json:"fieldConfig"`
		Options map[string]any `json:"options"`
		Targets []struct {
			RefID        string            `json:"refId"`
			Datasource   map[string]string `json:"datasource"`
			Expr         string            `json:"expr"`
			LegendFormat string            `json:"legendFormat"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestGrafanaDashboardUsesRegisteredMetrics(t *testing.T) {
	raw, err := os.ReadFile("grafana/periscope-sunset.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d grafanaDashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana/periscope-sunset.json: %v", err)
	}
	if d.UID == "" || d.SchemaVersion < 36 || len(d.Panels) == 0 {
		t.Fatalf("grafana/periscope-sunset.json: uid %q, schemaVersion %d, %d panels", d.UID, d.SchemaVersion, len(d.Panels))
	}
	known := registeredNames(t)
	used := map[string]bool{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || len(p.Targets) == 0 || p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: duplicate id, no targets or a bad gridPos %+v", p.Title, p.GridPos)
		}
		ids[p.ID] = true
		for _, tg := range p.Targets {
			for _, name := range metricNames(t, "panel "+p.Title, tg.Expr) {
				used[name] = true
				if !slices.Contains(known, name) {
					t.Errorf("panel %q uses %s, which no periscope-sunset process registers", p.Title, name)
				}
			}
		}
	}
	// Every metric of ours is on the dashboard, so a new one is not forgotten.
	for _, name := range known {
		if !used[name] && !strings.HasPrefix(name, "periscope_sunset_fleet_read_") && !strings.HasSuffix(name, "_shard_users_done") {
			t.Errorf("metric %s is on no panel of grafana/periscope-sunset.json", name)
		}
	}
}
