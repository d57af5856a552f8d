// Package clock is the injected time of tests: one settable clock that a
// test hands to the daemon and to the dev chain alike (their Now fields),
// so expiries, periods and schedules are tested on any date. Only tests
// import it.
package clock

import (
	"sync"
	"time"
)

// Fake is a clock that moves only when told. Its methods are safe for
// concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a clock reading start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the clock's time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
