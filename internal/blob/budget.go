package blob

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Budget bounds the bytes held in upload buffers across every upload of a
// process, and recycles those buffers so steady-state uploads allocate
// nothing. A nil *Budget means "no limit, no pooling".
type Budget struct {
	limit int64
	sem   *semaphore.Weighted

	mu    sync.Mutex
	pools map[int]*sync.Pool
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	return &Budget{limit: limit, sem: semaphore.NewWeighted(limit), pools: map[int]*sync.Pool{}}
}

// Limit is the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Acquire waits until n bytes fit in the budget and returns a buffer of
// length n. A request larger than the whole budget takes the whole budget,
// so one oversized part slows the process down but never deadlocks it.
func (b *Budget) Acquire(ctx context.Context, n int) ([]byte, error) {
	if err := b.sem.Acquire(ctx, b.weight(n)); err != nil {
		return nil, err
	}
	if buf, ok := b.pool(n).Get().(*[]byte); ok {
		return (*buf)[:n], nil
	}
	return make([]byte, n), nil
}

// Release returns a buffer taken with Acquire.
func (b *Budget) Release(buf []byte) {
	n := cap(buf)
	buf = buf[:n]
	b.pool(n).Put(&buf)
	b.sem.Release(b.weight(n))
}

func (b *Budget) weight(n int) int64 {
	return min(int64(n), b.limit)
}

func (b *Budget) pool(n int) *sync.Pool {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pools[n]
	if p == nil {
		p = &sync.Pool{}
		b.pools[n] = p
	}
	return p
}
