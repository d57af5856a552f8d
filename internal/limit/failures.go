// Package limit holds the daemon's abuse limits, all in memory and all
// timed by an injected clock: failed credentials throttled per source
// address with exponential backoff and a global cap, and counted per
// source and window so they are audited in aggregate (Failures); request
// rates per key and overall (Rates). It imports nothing internal; the
// service and the transports use it.
package limit

import (
	"net/netip"
	"sort"
	"sync"
	"time"
)

// FailureConfig sets how failed credentials are throttled. Zero fields
// take the defaults of DefaultFailures.
type FailureConfig struct {
	// Free is how many failures a source may make in a row before it must
	// wait; each failure past it doubles the wait.
	Free int
	// Base is the first wait; Max caps it.
	Base, Max time.Duration
	// Global is how many failures of all sources together a Window may
	// hold; past it, every source that failed in the window waits until
	// the window ends.
	Global int
	// Window is the aggregation window: failures of a source are audited
	// as one record per window.
	Window time.Duration
	// Alert is how many failures of one source in one window raise an
	// anomaly.
	Alert int
	// MaxSources bounds the sources remembered; past it, the one failing
	// least recently is forgotten (its pending count is still reported).
	MaxSources int
}

// DefaultFailures are the defaults: 10 free failures, then 1s, 2s, 4s …
// up to 15 minutes; 600 failures a minute across all sources; an anomaly
// at 20 failures of one source in a minute.
var DefaultFailures = FailureConfig{Free: 10, Base: time.Second, Max: 15 * time.Minute, Global: 600, Window: time.Minute, Alert: 20, MaxSources: 10000}

func (c FailureConfig) withDefaults() FailureConfig {
	d := DefaultFailures
	set(&d.Free, c.Free)
	set(&d.Base, c.Base)
	set(&d.Max, c.Max)
	set(&d.Global, c.Global)
	set(&d.Window, c.Window)
	set(&d.Alert, c.Alert)
	set(&d.MaxSources, c.MaxSources)
	return d
}

// set puts v in *dst when v is positive: zero keeps the default.
func set[T int | time.Duration](dst *T, v T) {
	if v > 0 {
		*dst = v
	}
}

// Aggregate is one source's failed credentials in one window, as audited.
type Aggregate struct {
	Surface   string         `json:"surface"` // "rpc", "mcp", "admin"
	Source    string         `json:"source"`  // the client's address (an IPv6 one's /64), or "unknown"
	Failed    int            `json:"failed"`  // credentials checked and refused
	Throttled int            `json:"throttled"`
	First     time.Time      `json:"first"`
	Last      time.Time      `json:"last"`
	Reasons   map[string]int `json:"reasons"`
	// Alert is set when Failed reached the alert threshold.
	Alert bool `json:"-"`
}

type sourceKey struct {
	surface string
	client  netip.Prefix
}

// client is the unit a source is counted by: its address, or an IPv6
// address's /64 (one subscriber's usual allocation, so an attacker cannot
// walk through their own addresses to start afresh).
func client(ip netip.Addr) netip.Prefix {
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

type source struct {
	streak  int       // failures in a row, for the backoff
	last    time.Time // latest failure
	until   time.Time // no check before this
	pending *Aggregate
}

// Failures throttles and counts failed credentials. Safe for concurrent use.
type Failures struct {
	cfg FailureConfig
	now func() time.Time

	mu          sync.Mutex
	sources     map[sourceKey]*source
	windowStart time.Time
	windowCount int
	done        []Aggregate // windows ended, not yet taken by Due
}

// NewFailures returns a throttle timed by now.
func NewFailures(cfg FailureConfig, now func() time.Time) *Failures {
	return &Failures{cfg: cfg.withDefaults(), now: now, sources: map[sourceKey]*source{}}
}

// Config is the configuration in use, defaults filled in.
func (f *Failures) Config() FailureConfig { return f.cfg }

// Wait returns how long the source must wait before a credential it
// sends is checked; 0 lets it through. A refused attempt is counted as
// throttled in the source's aggregate.
func (f *Failures) Wait(surface string, addr netip.Addr) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	f.roll(now)
	s, ok := f.sources[sourceKey{surface, client(addr)}]
	if !ok {
		return 0
	}
	until := s.until
	if f.windowCount >= f.cfg.Global && s.pending != nil {
		// Over the global cap: whoever failed this window waits it out.
		if end := f.windowStart.Add(f.cfg.Window); end.After(until) {
			until = end
		}
	}
	if !now.Before(until) {
		return 0
	}
	f.pendingOf(s, surface, addr, now).Throttled++
	return until.Sub(now)
}

// Fail records a credential from the source that was checked and refused
// for reason.
func (f *Failures) Fail(surface string, addr netip.Addr, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	f.roll(now)
	k := sourceKey{surface, client(addr)}
	s, ok := f.sources[k]
	if !ok {
		if len(f.sources) >= f.cfg.MaxSources {
			f.evict()
		}
		s = &source{}
		f.sources[k] = s
	}
	if !s.last.IsZero() && now.Sub(s.last) > f.cfg.Max {
		s.streak = 0 // quiet for longer than the longest wait: start over
	}
	s.streak++
	s.last = now
	if over := s.streak - f.cfg.Free; over > 0 {
		wait := f.cfg.Max
		if over <= 30 {
			if d := f.cfg.Base << (over - 1); d > 0 && d < f.cfg.Max {
				wait = d
			}
		}
		s.until = now.Add(wait)
	}
	a := f.pendingOf(s, surface, addr, now)
	a.Failed++
	a.Last = now
	if len(a.Reasons) < 8 || a.Reasons[reason] > 0 {
		a.Reasons[reason]++
	}
	if a.Failed >= f.cfg.Alert {
		a.Alert = true
	}
	f.windowCount++
}

func (f *Failures) pendingOf(s *source, surface string, addr netip.Addr, now time.Time) *Aggregate {
	if s.pending == nil {
		src := "unknown"
		if c := client(addr); c.IsValid() {
			src = c.String()
			if c.IsSingleIP() {
				src = c.Addr().String()
			}
		}
		s.pending = &Aggregate{Surface: surface, Source: src, First: now, Last: now, Reasons: map[string]int{}}
	}
	return s.pending
}

// roll ends the global window when it is over, moving every source's
// aggregate to done.
func (f *Failures) roll(now time.Time) {
	if !f.windowStart.IsZero() && now.Sub(f.windowStart) < f.cfg.Window {
		return
	}
	for k, s := range f.sources {
		if s.pending != nil {
			f.done = append(f.done, *s.pending)
			s.pending = nil
		}
		if now.Sub(s.last) > f.cfg.Max && !now.Before(s.until) {
			delete(f.sources, k)
		}
	}
	f.windowStart, f.windowCount = now, 0
}

// evict forgets the source that failed least recently, keeping its
// pending count for Due.
func (f *Failures) evict() {
	var (
		oldest sourceKey
		at     time.Time
		found  bool
	)
	for k, s := range f.sources {
		if !found || s.last.Before(at) {
			oldest, at, found = k, s.last, true
		}
	}
	if s := f.sources[oldest]; s != nil && s.pending != nil {
		f.done = append(f.done, *s.pending)
	}
	delete(f.sources, oldest)
}

// Due returns the aggregates of windows that have ended (all pending ones
// as well when flush is set, at shutdown), oldest first, and forgets them.
func (f *Failures) Due(flush bool) []Aggregate {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roll(f.now())
	if flush {
		for _, s := range f.sources {
			if s.pending != nil {
				f.done = append(f.done, *s.pending)
				s.pending = nil
			}
		}
	}
	out := f.done
	f.done = nil
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.First.Equal(b.First) {
			return a.First.Before(b.First)
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Surface < b.Surface
	})
	return out
}
