package blob

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Budget bounds the bytes held in upload buffers across every upload of a
// process, and recycles those buffers so steady-state uploads allocate
// nothing. Free buffers are kept on a list of their own (not a sync.Pool,
// which may hold freed buffers for two collections on top of those in use),
// so buffers in use plus buffers kept never exceed the limit.
type Budget struct {
	limit int64
	sem   *semaphore.Weighted

	mu   sync.Mutex
	free map[int][][]byte // by length
	kept int64            // bytes on the free lists
	used int64            // bytes handed out and not yet released
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit, sem: semaphore.NewWeighted(limit), free: map[int][][]byte{}}
}

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used is the bytes handed out and not yet released: upload buffers in
// flight now.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Acquire waits until n bytes fit in the budget and returns a buffer of
// length n. A request larger than the whole budget takes the whole budget,
// so one oversized part slows the process down but never deadlocks it.
func (b *Budget) Acquire(ctx context.Context, n int) ([]byte, error) {
	if err := b.sem.Acquire(ctx, b.weight(n)); err != nil {
		return nil, err
	}
	return b.take(n), nil
}

// take hands out a buffer of length n whose weight has been acquired.
func (b *Budget) take(n int) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used += int64(n)
	if l := b.free[n]; len(l) > 0 {
		buf := l[len(l)-1]
		b.free[n] = l[:len(l)-1]
		b.kept -= int64(n)
		return buf
	}
	// Make room: drop free buffers of other sizes (part sizes grow in a
	// long upload) rather than hold more than the limit in all.
	for size, l := range b.free {
		for len(l) > 0 && b.kept+b.used > b.limit {
			l = l[:len(l)-1]
			b.kept -= int64(size)
		}
		b.free[size] = l
	}
	return make([]byte, n)
}

// TryAcquire is Acquire without waiting: ok is false if n bytes do not
// fit in the budget now. An upload that holds a buffer it cannot send yet
// takes more only this way, so it never waits on others while holding.
func (b *Budget) TryAcquire(n int) (buf []byte, ok bool) {
	if !b.sem.TryAcquire(b.weight(n)) {
		return nil, false
	}
	return b.take(n), true
}

// Release returns a buffer taken with Acquire.
func (b *Budget) Release(buf []byte) {
	n := cap(buf)
	b.mu.Lock()
	b.used -= int64(n)
	if b.kept+b.used+int64(n) <= b.limit {
		b.free[n] = append(b.free[n], buf[:n])
		b.kept += int64(n)
	}
	b.mu.Unlock()
	b.sem.Release(b.weight(n))
}

func (b *Budget) weight(n int) int64 {
	return min(int64(n), b.limit)
}
