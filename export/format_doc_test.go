package export

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestFormatDocumentNamesEveryField keeps docs/format/export.md, the
// specification importers write against, in step with the code: its title
// names the current format_version and a table row documents every JSON
// field of manifest.json, broadcasts.json and the omission record.
func TestFormatDocumentNamesEveryField(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "format", "export.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	if !strings.HasPrefix(doc, "# Export format, version "+FormatVersion+"\n") {
		t.Errorf("docs/format/export.md does not start with version %s", FormatVersion)
	}
	if !strings.Contains(doc, "`"+formatVersion+"`") {
		t.Errorf("docs/format/export.md does not name the format %q", formatVersion)
	}
	for _, v := range []any{Manifest{}, PartRecord{}, FileRecord{}, Broadcast{}, Omission{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(doc, "| `"+name+"` |") {
				t.Errorf("%s.%s (%q) has no row in docs/format/export.md", typ.Name(), typ.Field(i).Name, name)
			}
		}
	}
}
