package api

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/truce-mvm/truce"
)

// Limits bound what one client can ask of the server. Zero rates mean no
// limit.
type Limits struct {
	MaxBodyBytes   int64         // JSON bodies (entries, commands)
	MaxUploadBytes int64         // evidence files
	MemberRate     float64       // requests a second per member
	MemberBurst    int           //
	AddressRate    float64       // requests a second per client address
	AddressBurst   int           //
	RequestTimeout time.Duration // for handling one request
	LoginFailures  int           // failed sign-ins before a lock-out
	LoginWindow    time.Duration // in which they count
	Lockout        time.Duration // how long a member is locked out
}

// DefaultLimits are the limits of a server started without others. No
// entry is over 64 KiB (a tlog-tiles leaf), so a JSON body of 128 KiB holds
// any entry with room for its sealed content.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes: 128 << 10, MaxUploadBytes: 256 << 20,
		MemberRate: 50, MemberBurst: 200, AddressRate: 200, AddressBurst: 400,
		RequestTimeout: 30 * time.Second,
		LoginFailures:  5, LoginWindow: 15 * time.Minute, Lockout: 15 * time.Minute,
	}
}

// limiter keeps a token bucket per key, forgetting idle ones.
type limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*entryLimiter
	seen  int
}

type entryLimiter struct {
	l    *rate.Limiter
	last time.Time
}

func newLimiter(r float64, burst int) *limiter {
	return &limiter{rate: rate.Limit(r), burst: max(burst, 1), m: map[string]*entryLimiter{}}
}

// allow reports whether key may make a request now, and if not when.
func (l *limiter) allow(key string) (bool, time.Duration) {
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
		e = &entryLimiter{l: rate.NewLimiter(l.rate, l.burst)}
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

// tooMany is the 429 error, with when to come back.
func tooMany(w http.ResponseWriter, retry time.Duration, what string) error {
	w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
	return truce.Errorf(truce.CodeRateLimited, "too many requests %s; try again in %s", what, retry.Round(time.Second)+time.Second)
}

// clientAddress is the client's IP address.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// lockouts counts failed sign-ins per member.
type lockouts struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	until    map[string]time.Time
}

func newLockouts() *lockouts {
	return &lockouts{failures: map[string][]time.Time{}, until: map[string]time.Time{}}
}

// locked reports whether member is locked out, and until when.
func (l *lockouts) locked(member string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if u, ok := l.until[member]; ok && now.Before(u) {
		return true, u.Sub(now)
	}
	return false, 0
}

// fail records a failed sign-in and reports whether it locks member out.
func (l *lockouts) fail(member string, now time.Time, lim Limits) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	var recent []time.Time
	for _, t := range l.failures[member] {
		if now.Sub(t) < lim.LoginWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	l.failures[member] = recent
	if len(recent) >= lim.LoginFailures {
		l.until[member] = now.Add(lim.Lockout)
		delete(l.failures, member)
		return true
	}
	return false
}

func (l *lockouts) succeed(member string) {
	l.mu.Lock()
	delete(l.failures, member)
	l.mu.Unlock()
}
