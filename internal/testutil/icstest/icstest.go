// Package icstest is a strict RFC 5545 reader for tests: it refuses what
// calendar clients might quietly accept (bare LF, lines over 75 octets,
// bad escapes, unbalanced components, missing required properties), and
// returns the components with their text values unescaped.
package icstest

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Component is a parsed BEGIN/END block.
type Component struct {
	Name     string
	Props    []Prop
	Children []*Component
}

// Prop is one content line.
type Prop struct {
	Name   string
	Params map[string]string
	Value  string // raw, still escaped
}

// Get returns the raw value of the first property called name.
func (c *Component) Get(name string) (string, bool) {
	for _, p := range c.Props {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// Text returns the unescaped TEXT value of the first property called name.
func (c *Component) Text(name string) string {
	v, _ := c.Get(name)
	s, _ := Unescape(v)
	return s
}

// Time parses a DATE-TIME property in UTC form (YYYYMMDDTHHMMSSZ).
func (c *Component) Time(name string) (time.Time, error) {
	v, ok := c.Get(name)
	if !ok {
		return time.Time{}, fmt.Errorf("no %s", name)
	}
	return time.Parse("20060102T150405Z", v)
}

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	dateTimeRE = regexp.MustCompile(`^\d{8}T\d{6}Z?$`)
)

// textProps are the TEXT-valued properties whose values are checked for
// unescaped separators.
var textProps = map[string]bool{"SUMMARY": true, "DESCRIPTION": true, "LOCATION": true, "X-WR-CALNAME": true, "COMMENT": true}

// Parse reads one VCALENDAR and checks it.
func Parse(b []byte) (*Component, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("not UTF-8")
	}
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		return nil, errors.New("the last line does not end with CRLF")
	}
	physical := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	var lines []string
	for i, l := range physical {
		if strings.ContainsAny(l, "\r\n") {
			return nil, fmt.Errorf("line %d: bare CR or LF", i+1)
		}
		if len(l) > 75 {
			return nil, fmt.Errorf("line %d: %d octets, over 75", i+1, len(l))
		}
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if len(lines) == 0 {
				return nil, fmt.Errorf("line %d: continuation with nothing to continue", i+1)
			}
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	var stack []*Component
	var root *Component
	for i, l := range lines {
		p, err := parseLine(l)
		if err != nil {
			return nil, fmt.Errorf("content line %d %q: %w", i+1, l, err)
		}
		switch p.Name {
		case "BEGIN":
			c := &Component{Name: p.Value}
			if len(stack) == 0 {
				if root != nil || p.Value != "VCALENDAR" {
					return nil, fmt.Errorf("content line %d: want one VCALENDAR", i+1)
				}
				root = c
			} else {
				top := stack[len(stack)-1]
				top.Children = append(top.Children, c)
			}
			stack = append(stack, c)
		case "END":
			if len(stack) == 0 || stack[len(stack)-1].Name != p.Value {
				return nil, fmt.Errorf("content line %d: END:%s does not close an open component", i+1, p.Value)
			}
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				return nil, fmt.Errorf("content line %d: property outside VCALENDAR", i+1)
			}
			if textProps[p.Name] {
				if _, err := Unescape(p.Value); err != nil {
					return nil, fmt.Errorf("content line %d: %s: %w", i+1, p.Name, err)
				}
			}
			top := stack[len(stack)-1]
			top.Props = append(top.Props, p)
		}
	}
	if root == nil || len(stack) != 0 {
		return nil, errors.New("VCALENDAR not closed")
	}
	return root, check(root)
}

func parseLine(l string) (Prop, error) {
	// The name and parameters end at the first colon outside quotes.
	inQuote, colon := false, -1
	for i, r := range l {
		if r == '"' {
			inQuote = !inQuote
		}
		if r == ':' && !inQuote {
			colon = i
			break
		}
	}
	if colon < 0 {
		return Prop{}, errors.New("no colon")
	}
	head, value := l[:colon], l[colon+1:]
	parts := strings.Split(head, ";")
	p := Prop{Name: strings.ToUpper(parts[0]), Value: value, Params: map[string]string{}}
	if !nameRE.MatchString(p.Name) {
		return Prop{}, fmt.Errorf("bad property name %q", parts[0])
	}
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !nameRE.MatchString(k) {
			return Prop{}, fmt.Errorf("bad parameter %q", kv)
		}
		p.Params[strings.ToUpper(k)] = v
	}
	return p, nil
}

// Unescape decodes a TEXT value, refusing unescaped ; and , and unknown
// escapes.
func Unescape(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			if i+1 == len(v) {
				return "", errors.New("trailing backslash")
			}
			i++
			switch v[i] {
			case '\\', ';', ',':
				b.WriteByte(v[i])
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				return "", fmt.Errorf("unknown escape \\%c", v[i])
			}
		case ';', ',':
			return "", fmt.Errorf("unescaped %q", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// check enforces the properties RFC 5545 requires.
func check(cal *Component) error {
	if v, _ := cal.Get("VERSION"); v != "2.0" {
		return fmt.Errorf("VERSION %q, want 2.0", v)
	}
	if v, _ := cal.Get("PRODID"); v == "" {
		return errors.New("no PRODID")
	}
	if len(cal.Children) == 0 {
		return errors.New("no components")
	}
	uids := map[string]bool{}
	for _, ev := range cal.Children {
		if ev.Name != "VEVENT" {
			continue
		}
		for _, name := range []string{"UID", "DTSTAMP", "DTSTART"} {
			n := 0
			for _, p := range ev.Props {
				if p.Name == name {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("VEVENT has %d %s, want exactly 1", n, name)
			}
		}
		uid, _ := ev.Get("UID")
		if uids[uid] {
			return fmt.Errorf("UID %q used twice", uid)
		}
		uids[uid] = true
		for _, name := range []string{"DTSTAMP", "DTSTART", "DTEND"} {
			if v, ok := ev.Get(name); ok && !dateTimeRE.MatchString(v) {
				return fmt.Errorf("%s %q is not a DATE-TIME", name, v)
			}
		}
		if _, ok := ev.Get("DTEND"); ok {
			s, err1 := ev.Time("DTSTART")
			e, err2 := ev.Time("DTEND")
			if err1 != nil || err2 != nil || !e.After(s) {
				return fmt.Errorf("DTEND must be a UTC time after DTSTART (%v, %v)", err1, err2)
			}
		}
	}
	return nil
}
