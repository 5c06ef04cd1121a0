// Package fetch gets pages from the web for ingestion, defensively: time
// limits on every phase, a size limit on the decompressed body (so a gzip
// bomb stops at the limit), at most five redirects, and only http(s).
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// Page is a fetched page.
type Page struct {
	URL         *url.URL // after redirects
	ContentType string
	Body        []byte
}

// Errors a fetch can end with.
var (
	ErrTooLarge  = errors.New("the page is larger than the limit")
	ErrRedirects = errors.New("too many redirects")
	ErrScheme    = errors.New("only http and https pages are fetched")
)

// Client fetches pages, politely: one request per host at a time, at
// most one every PerHost.
type Client struct {
	HTTP     *http.Client
	MaxBytes int64
	PerHost  time.Duration

	mu    sync.Mutex
	hosts map[string]*rate.Limiter
}

// wait holds a request until its host may be asked again.
func (c *Client) wait(ctx context.Context, host string) error {
	if c.PerHost <= 0 {
		return nil
	}
	c.mu.Lock()
	if c.hosts == nil {
		c.hosts = map[string]*rate.Limiter{}
	}
	l, ok := c.hosts[host]
	if !ok {
		l = rate.NewLimiter(rate.Every(c.PerHost), 1)
		c.hosts[host] = l
	}
	c.mu.Unlock()
	return l.Wait(ctx)
}

// ErrPrivate is a page on a loopback, private or link-local address: a feed
// (or a redirect) must not make the server read its own network and put
// what it finds into the log.
var ErrPrivate = errors.New("the address is on a private network (loopback, private or link-local); allow private addresses to read it")

// New returns a client with the limits above; maxBytes bounds a page. It
// refuses private addresses unless allowPrivate, checking the address it
// actually connects to (after DNS and after every redirect).
func New(maxBytes int64, allowPrivate bool) *Client {
	return &Client{MaxBytes: maxBytes, PerHost: time.Second, HTTP: &http.Client{
		Transport: Transport(allowPrivate),
		Timeout:   30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return ErrRedirects
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return ErrScheme
			}
			return nil
		},
	}}
}

// Private reports whether ip is one a server must not be made to reach:
// loopback, private, link-local, unspecified or multicast.
func Private(ip net.IP) bool {
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() ||
		sharedSpace.Contains(ip) || nat64.Contains(ip) && Private(ip[12:16])
}

// sharedSpace is carrier-grade NAT's (RFC 6598), inside a provider's
// network; nat64 embeds an IPv4 address in IPv6 (RFC 6052), which is
// private if the address it embeds is.
var (
	_, sharedSpace, _ = net.ParseCIDR("100.64.0.0/10")
	_, nat64, _       = net.ParseCIDR("64:ff9b::/96")
)

// Transport returns an HTTP transport that refuses private addresses
// unless allowPrivate, checking the address each connection is actually
// made to (after DNS: a name that resolves to a private address, or is
// re-pointed at one, is refused as well). It uses no proxy, which would
// connect for it unchecked. Webhook deliveries share it.
func Transport(allowPrivate bool) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || Private(ip) {
				return ErrPrivate
			}
			return nil
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = dialer.DialContext
	transport.Proxy = nil
	return transport
}

// Get fetches a page.
func (c *Client) Get(ctx context.Context, raw string) (*Page, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, ErrScheme
	}
	if err := c.wait(ctx, u.Host); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "Truce/1 (ceasefire monitoring mechanism; open-source reports)")
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,text/plain;q=0.8")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s answered %s", u.Host, resp.Status)
	}
	if resp.ContentLength > c.MaxBytes {
		return nil, ErrTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > c.MaxBytes {
		return nil, ErrTooLarge
	}
	return &Page{URL: resp.Request.URL, ContentType: resp.Header.Get("Content-Type"), Body: body}, nil
}
