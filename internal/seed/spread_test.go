package seed

import (
	"testing"
	"time"
)

// spread keeps items in order and inside the span at the sizes the bench
// seeds, where span times i overflows.
func TestSpread(t *testing.T) {
	for _, c := range []struct {
		span time.Duration
		n    int
	}{{day, 1_000_000}, {grantSpan, 100_000}, {day, MaxRecords}, {grantSpan, MaxGrants}, {day, 7}} {
		prev := time.Duration(-1)
		for _, i := range []int{0, 1, 2, c.n / 3, c.n / 2, c.n - 2, c.n - 1} {
			got := spread(c.span, i, c.n)
			if got < 0 || got >= c.span || got < prev {
				t.Fatalf("spread(%v, %d, %d) = %v after %v: out of the span or of order", c.span, i, c.n, got, prev)
			}
			prev = got
		}
		if last := spread(c.span, c.n-1, c.n); last < c.span-c.span/time.Duration(c.n)-time.Duration(c.n) {
			t.Errorf("spread(%v, last of %d) = %v: the items do not fill the span", c.span, c.n, last)
		}
	}
}
