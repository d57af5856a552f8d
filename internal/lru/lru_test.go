package lru

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// get returns key's value, counting the fills in fills.
func get(c *Cache[string, string], key string, fills map[string]int) string {
	v, _ := c.Get(key, func() (string, error) {
		fills[key]++
		return "v:" + key, nil
	})
	return v
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	c := New[string, string](2)
	fills := map[string]int{}
	steps := []struct {
		key       string
		wantFills int // fills of key after the step
	}{
		{"a", 1},
		{"b", 1},
		{"a", 1}, // reused: a is now the most recently used
		{"c", 1}, // evicts b, the least recently used
		{"a", 1}, // still held
		{"b", 2}, // was evicted: filled again, evicting c
		{"c", 2},
	}
	for i, s := range steps {
		if v := get(c, s.key, fills); v != "v:"+s.key {
			t.Fatalf("step %d: Get(%s) = %q", i, s.key, v)
		}
		if fills[s.key] != s.wantFills {
			t.Fatalf("step %d: %s filled %d times, want %d", i, s.key, fills[s.key], s.wantFills)
		}
		if c.Len() > 2 {
			t.Fatalf("step %d: Len = %d, over the size 2", i, c.Len())
		}
	}
	if diff := cmp.Diff(Stats{Hits: 2, Misses: 5, Evictions: 3}, c.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestFailedFillIsNotKept(t *testing.T) {
	c := New[string, int](4)
	boom := errors.New("boom")
	calls := 0
	fill := func() (int, error) {
		calls++
		if calls == 1 {
			return 0, boom
		}
		return 7, nil
	}
	if _, err := c.Get("k", fill); !errors.Is(err, boom) {
		t.Fatalf("first Get: error %v, want boom", err)
	}
	if c.Len() != 0 {
		t.Fatalf("a failed fill is held: Len = %d", c.Len())
	}
	if v, err := c.Get("k", fill); err != nil || v != 7 || calls != 2 {
		t.Fatalf("second Get = %d, %v after %d fills; want 7 after 2", v, err, calls)
	}
}

// TestPeek: Peek finds held values without filling or reordering.
func TestPeek(t *testing.T) {
	c := New[string, string](2)
	fills := map[string]int{}
	if _, ok := c.Peek("a"); ok {
		t.Fatal("Peek found a value never held")
	}
	get(c, "a", fills)
	get(c, "b", fills)
	if v, ok := c.Peek("a"); !ok || v != "v:a" {
		t.Fatalf("Peek(a) = %q, %v", v, ok)
	}
	get(c, "c", fills) // evicts a: peeking did not make it recent
	if _, ok := c.Peek("a"); ok {
		t.Fatal("Peek made a the most recently used")
	}
	if fills["a"] != 1 || c.Stats().Hits != 0 {
		t.Fatalf("Peek filled or counted: fills %v, stats %+v", fills, c.Stats())
	}
}

func TestRemove(t *testing.T) {
	c := New[string, string](4)
	fills := map[string]int{}
	get(c, "a", fills)
	c.Remove("a")
	c.Remove("never held")
	get(c, "a", fills)
	if fills["a"] != 2 {
		t.Fatalf("a filled %d times after Remove, want 2", fills["a"])
	}
}

// TestConcurrentFillOnce: goroutines asking for the same missing key at
// once share one fill; the cache stays within its size under churn.
func TestConcurrentFillOnce(t *testing.T) {
	c := New[int, int](8)
	var fills [32]atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := g % 4
			v, err := c.Get(key, func() (int, error) {
				fills[key].Add(1)
				<-release // hold the fill until every goroutine has asked
				return key * 10, nil
			})
			if err != nil || v != key*10 {
				t.Errorf("Get(%d) = %d, %v", key, v, err)
			}
		}()
	}
	// Every goroutine is either filling or waiting on a fill once the
	// four fills have started and the others found their entries.
	for c.Stats().Hits+c.Stats().Misses < 64 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	for key := range 4 {
		if n := fills[key].Load(); n != 1 {
			t.Errorf("key %d filled %d times, want once", key, n)
		}
	}
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := i % 32
			if v, _ := c.Get(key, func() (int, error) { return key, nil }); v != key && v != key*10 {
				t.Errorf("Get(%d) = %d", key, v)
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > 8 {
		t.Errorf("Len = %d, over the size 8", n)
	}
	if s := c.Stats(); s.Evictions == 0 {
		t.Errorf("no eviction under churn of 32 keys in 8 places: %+v", s)
	}
}
