package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/periscope-sunset/periscope-sunset/internal/blob"
)

// UsersKey is where the source archive lists its users.
const UsersKey = "users.jsonl"

// maxUserLine bounds one users.jsonl line, so a corrupt file without
// newlines cannot make the reader buffer gigabytes.
const maxUserLine = 1 << 20

// User is one line of users.jsonl. Raw keeps every field the service had, so
// the user's profile.json loses nothing we do not know about.
type User struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`

	Raw  json.RawMessage `json:"-"`
	Line int             `json:"-"`
}

// LineError is a users.jsonl line that could not be used.
type LineError struct {
	Line int
	ID   string // the id, when one could be read
	Err  error
}

func (e *LineError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("%s line %d (user %q): %v", UsersKey, e.Line, e.ID, e.Err)
	}
	return fmt.Sprintf("%s line %d: %v", UsersKey, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// ParseUser parses one users.jsonl line.
func ParseUser(line []byte) (User, error) {
	var u User
	if err := json.Unmarshal(line, &u); err != nil {
		return User{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if u.ID == "" {
		return User{}, errors.New(`missing "id"`)
	}
	if err := checkID("user", u.ID); err != nil {
		return u, err
	}
	u.Raw = append(json.RawMessage(nil), line...)
	return u, nil
}

// ReadUsers streams users.jsonl from r and calls fn for each line that is
// not blank: with the user, or with a *LineError for a line that cannot be
// used. An error returned by fn stops the read.
func ReadUsers(ctx context.Context, r io.Reader, fn func(User, error) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, tooLong, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s line %d: %w", UsersKey, n, err)
		}
		if eof := errors.Is(err, io.EOF); len(line) > 0 || tooLong {
			if ferr := fn(parseLine(n, line, tooLong)); ferr != nil {
				return ferr
			}
			if eof {
				return nil
			}
		} else if eof {
			return nil
		}
	}
}

func parseLine(n int, line []byte, tooLong bool) (User, error) {
	if tooLong {
		return User{}, &LineError{Line: n, Err: fmt.Errorf("line longer than %d bytes", maxUserLine)}
	}
	u, err := ParseUser(line)
	if err != nil {
		return User{}, &LineError{Line: n, ID: u.ID, Err: err}
	}
	u.Line = n
	return u, nil
}

// readLine returns the next line without its newline, trimmed of
// surrounding space. A line over maxUserLine is consumed and reported as
// too long instead of buffered.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > maxUserLine {
			tooLong = true
		} else {
			buf = append(buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			buf = nil
		}
		return bytes.TrimSpace(buf), tooLong, err
	}
}

// CountUsers counts the non-blank lines of users.jsonl, for progress totals.
func CountUsers(ctx context.Context, src blob.Store) (int, error) {
	rc, err := src.Get(ctx, UsersKey)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", UsersKey, err)
	}
	defer rc.Close()
	n := 0
	err = ReadUsers(ctx, rc, func(User, error) error { n++; return nil })
	return n, err
}
