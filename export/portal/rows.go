package portal

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Format is how link rows are written.
type Format string

const (
	CSV   Format = "csv"   // a header line, then one record per row
	JSONL Format = "jsonl" // one JSON object per line
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case CSV, JSONL:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want csv or jsonl", s)
}

// Row is a row type the RowWriter knows: Link or PartLink.
type Row interface {
	Link | PartLink
}

// RowWriter writes link rows as CSV or JSON lines. Its columns and JSON
// fields are the contract with the mailer.
type RowWriter[T Row] struct {
	csv    *csv.Writer
	json   *json.Encoder
	header bool
}

// NewRowWriter returns a writer of rows to w in format f.
func NewRowWriter[T Row](w io.Writer, f Format) *RowWriter[T] {
	if f == JSONL {
		return &RowWriter[T]{json: json.NewEncoder(w)}
	}
	return &RowWriter[T]{csv: csv.NewWriter(w)}
}

// Write writes one row.
func (w *RowWriter[T]) Write(row T) error {
	if w.json != nil {
		return w.json.Encode(row)
	}
	if err := w.writeHeader(); err != nil {
		return err
	}
	return w.csv.Write(record(row))
}

// Close writes the CSV header if no row was written, and flushes.
func (w *RowWriter[T]) Close() error {
	if w.csv == nil {
		return nil
	}
	if err := w.writeHeader(); err != nil {
		return err
	}
	w.csv.Flush()
	return w.csv.Error()
}

func (w *RowWriter[T]) writeHeader() error {
	if w.header {
		return nil
	}
	w.header = true
	var zero T
	return w.csv.Write(header(zero))
}

func header(row any) []string {
	switch row.(type) {
	case Link:
		return []string{"user_id", "url", "expires_at", "parts", "bytes"}
	default:
		return []string{"user_id", "part", "parts", "file", "url", "expires_at", "bytes", "sha256"}
	}
}

func record(row any) []string {
	switch r := row.(type) {
	case Link:
		return []string{r.UserID, r.URL, r.ExpiresAt.Format(time.RFC3339), strconv.Itoa(r.Parts),
			strconv.FormatInt(r.Bytes, 10)}
	case PartLink:
		return []string{r.UserID, strconv.Itoa(r.Part), strconv.Itoa(r.Parts), r.File, r.URL,
			r.ExpiresAt.Format(time.RFC3339), strconv.FormatInt(r.Bytes, 10), r.SHA256}
	}
	panic("unreachable")
}
