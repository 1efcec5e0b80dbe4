package blob

import (
	"context"
	"testing"
	"time"
)

func TestBudgetBoundsAndRecycles(t *testing.T) {
	b := NewBudget(4 << 20)
	ctx := context.Background()
	x, _ := b.Acquire(ctx, 2<<20)
	y, _ := b.Acquire(ctx, 2<<20)
	done := make(chan []byte)
	go func() { z, _ := b.Acquire(ctx, 1<<20); done <- z }()
	select {
	case <-done:
		t.Fatal("a third buffer was handed out past the limit")
	case <-time.After(50 * time.Millisecond):
	}
	b.Release(x)
	z := <-done
	b.Release(y)
	b.Release(z)
	if b.kept+b.used > b.limit {
		t.Fatalf("holding %d bytes for a %d budget", b.kept+b.used, b.limit)
	}
	again, _ := b.Acquire(ctx, 2<<20)
	if &again[0] != &y[0] && &again[0] != &x[0] {
		t.Error("a released buffer of the same size was not reused")
	}
	// A request larger than the budget takes all of it instead of blocking.
	b.Release(again)
	big, err := b.Acquire(ctx, 8<<20)
	if err != nil || len(big) != 8<<20 {
		t.Fatalf("oversized acquire: %v", err)
	}
	b.Release(big)
}
