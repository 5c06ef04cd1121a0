// Package limit keeps token buckets by key (a member, a client address),
// forgetting idle ones, so that no one client can take the server.
package limit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed is a token bucket per key. A nil *Keyed, or one with a rate of
// zero, allows everything.
type Keyed struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*bucket
	seen  int
}

type bucket struct {
	l    *rate.Limiter
	last time.Time
}

// New returns buckets of perSecond requests a second, burst at once.
func New(perSecond float64, burst int) *Keyed {
	return &Keyed{rate: rate.Limit(perSecond), burst: max(burst, 1), m: map[string]*bucket{}}
}

// Allow reports whether key may make a request now, and if not, how long
// until it may.
func (l *Keyed) Allow(key string) (bool, time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen++; l.seen%1024 == 0 {
		for k, e := range l.m {
			if now.Sub(e.last) > 10*time.Minute {
				delete(l.m, k)
			}
		}
	}
	e, ok := l.m[key]
	if !ok {
		e = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.m[key] = e
	}
	e.last = now
	r := e.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
