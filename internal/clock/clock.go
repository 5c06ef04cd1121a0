// Package clock is the settable clock that sets log time when it must not
// be the wall clock: the demo lays down a past fortnight, tests step
// through deadlines.
package clock

import (
	"sync"
	"time"
)

// Settable is a clock that reads what it was last set to.
type Settable struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock set to t.
func New(t time.Time) *Settable { return &Settable{t: t} }

// Now returns the clock's time; use it as a func() time.Time.
func (c *Settable) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock.
func (c *Settable) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock on by d.
func (c *Settable) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
