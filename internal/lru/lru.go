// Package lru is a bounded cache that keeps the values used most
// recently and computes each missing one once, however many goroutines
// ask for it at the same time. The service keeps compiled policies in
// one; any package may import it.
package lru

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// Cache maps keys to values, holding at most its size of them: adding
// one more evicts the least recently used. It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	size int

	mu    sync.Mutex
	order *list.List // of *entry[K, V], most recently used first
	items map[K]*list.Element

	hits, misses, evictions atomic.Int64
}

type entry[K comparable, V any] struct {
	key   K
	ready chan struct{} // closed when v and err are set
	v     V
	err   error
}

// New returns an empty cache holding at most size values (at least one).
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{size: max(size, 1), order: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value of key, calling fill to compute it if the cache
// does not hold it. Callers that ask for a key while its fill runs wait
// for that fill instead of starting another; fill runs without the
// cache's lock held. A fill that fails is not kept: its error goes to
// the callers that waited for it, and the next Get calls fill again.
func (c *Cache[K, V]) Get(key K, fill func() (V, error)) (V, error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		c.mu.Unlock()
		c.hits.Add(1)
		e := el.Value.(*entry[K, V])
		<-e.ready
		return e.v, e.err
	}
	e := &entry[K, V]{key: key, ready: make(chan struct{})}
	c.items[key] = c.order.PushFront(e)
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*entry[K, V]).key)
		c.evictions.Add(1)
	}
	c.mu.Unlock()
	c.misses.Add(1)

	e.v, e.err = fill()
	close(e.ready)
	if e.err != nil {
		c.mu.Lock()
		if el, ok := c.items[key]; ok && el.Value == e {
			c.order.Remove(el)
			delete(c.items, key)
		}
		c.mu.Unlock()
	}
	return e.v, e.err
}

// Peek returns key's value if the cache holds it, filled without error,
// and leaves the cache as it was: it neither fills nor makes key the
// most recently used. A scan over many keys that should not push out
// the ones in use peeks.
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	c.mu.Lock()
	el, ok := c.items[key]
	c.mu.Unlock()
	var zero V
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[K, V])
	select {
	case <-e.ready:
		if e.err == nil {
			return e.v, true
		}
	default:
	}
	return zero, false
}

// Remove forgets key, if the cache holds it.
func (c *Cache[K, V]) Remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.Remove(el)
		delete(c.items, key)
	}
}

// Len is how many values the cache holds (fills under way included).
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Stats counts what Get did since New.
type Stats struct {
	Hits      int64 // the value was held (or being filled)
	Misses    int64 // fill was called
	Evictions int64 // values dropped to stay within the size
}

// Stats returns the cache's counts.
func (c *Cache[K, V]) Stats() Stats {
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load()}
}
