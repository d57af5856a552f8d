package limit

import (
	"sort"
	"sync"
	"time"
)

// RateConfig sets the request limits. Zero fields take the defaults of
// DefaultRates.
type RateConfig struct {
	// Global requests per GlobalPer across every key and source.
	Global    int
	GlobalPer time.Duration
	// Key requests per KeyPer for a key whose policy sets no rate; a key
	// with a rate gets its own.
	Key    int
	KeyPer time.Duration
}

// DefaultRates are the defaults: 500 requests a second overall, 20 a
// second for a key whose policy sets no rate.
var DefaultRates = RateConfig{Global: 500, GlobalPer: time.Second, Key: 20, KeyPer: time.Second}

func (c RateConfig) withDefaults() RateConfig {
	d := DefaultRates
	if c.Global > 0 && c.GlobalPer > 0 {
		d.Global, d.GlobalPer = c.Global, c.GlobalPer
	}
	if c.Key > 0 && c.KeyPer > 0 {
		d.Key, d.KeyPer = c.Key, c.KeyPer
	}
	return d
}

// bucket is a token bucket: capacity max, refilled at max per per.
type bucket struct {
	tokens float64
	at     time.Time
}

// take refills b to now and takes a token if there is one; otherwise it
// says how long until there is.
func (b *bucket) take(now time.Time, max int, per time.Duration) (bool, time.Duration) {
	rate := float64(max) / float64(per) // tokens per nanosecond
	if b.at.IsZero() {
		b.tokens = float64(max)
	} else if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(max), b.tokens+float64(d)*rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / rate)
}

// Refused is one key's requests refused by its limit within a window (or
// the global limit's, with Key empty), as audited.
type Refused struct {
	Key   string    `json:"key_id,omitempty"`
	Count int       `json:"refused"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Rates limits requests overall and per key. Safe for concurrent use.
type Rates struct {
	cfg RateConfig
	now func() time.Time

	mu      sync.Mutex
	global  bucket
	keys    map[string]*bucket
	refused map[string]*Refused // by key; "" for the global limit
}

// NewRates returns request limits timed by now.
func NewRates(cfg RateConfig, now func() time.Time) *Rates {
	return &Rates{cfg: cfg.withDefaults(), now: now, keys: map[string]*bucket{}, refused: map[string]*Refused{}}
}

// Config is the configuration in use, defaults filled in.
func (r *Rates) Config() RateConfig { return r.cfg }

// Global takes a request from the overall limit; false with how long
// to wait when it is spent.
func (r *Rates) Global() (bool, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	ok, wait := r.global.take(now, r.cfg.Global, r.cfg.GlobalPer)
	if !ok {
		r.count("", now)
	}
	return ok, wait
}

// Key takes a request of key from its limit: max per per from its
// policy, or the default when max is 0.
func (r *Rates) Key(key string, max int, per time.Duration) (bool, time.Duration) {
	if max <= 0 || per <= 0 {
		max, per = r.cfg.Key, r.cfg.KeyPer
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	b, ok := r.keys[key]
	if !ok {
		b = &bucket{}
		r.keys[key] = b
	}
	allowed, wait := b.take(now, max, per)
	if !allowed {
		r.count(key, now)
	}
	return allowed, wait
}

func (r *Rates) count(key string, now time.Time) {
	c, ok := r.refused[key]
	if !ok {
		c = &Refused{Key: key, First: now}
		r.refused[key] = c
	}
	c.Count++
	c.Last = now
}

// Due returns the refusals counted whose first is at least window ago
// (all of them when flush is set), oldest first, and forgets them.
func (r *Rates) Due(window time.Duration, flush bool) []Refused {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	var out []Refused
	for k, c := range r.refused {
		if flush || now.Sub(c.First) >= window {
			out = append(out, *c)
			delete(r.refused, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].First.Equal(out[j].First) {
			return out[i].First.Before(out[j].First)
		}
		return out[i].Key < out[j].Key
	})
	return out
}
