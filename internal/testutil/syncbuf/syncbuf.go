// Package syncbuf is a bytes.Buffer safe for the several goroutines that
// copy a child process's stdout and stderr, for test harnesses that keep
// the output of the servers and browsers they start.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects writes from several goroutines.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
