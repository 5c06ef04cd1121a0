package gate

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"
)

// Proxies are the reverse proxies trusted to say, in X-Forwarded-For and
// X-Forwarded-Proto, which client they forward and whether it connected
// over HTTPS. The zero value trusts none: the client is whoever connected.
type Proxies struct {
	nets []netip.Prefix
}

// ParseProxies reads trusted proxies: CIDR prefixes (10.0.0.0/8,
// fd00::/8) or single addresses.
func ParseProxies(list []string) (Proxies, error) {
	var p Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return Proxies{}, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR prefix", s)
			}
			pf = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if pf.Addr().Is4In6() {
			pf = netip.PrefixFrom(pf.Addr().Unmap(), max(0, pf.Bits()-96))
		}
		p.nets = append(p.nets, pf.Masked())
	}
	return p, nil
}

// Trusts reports whether a is a trusted proxy.
func (p Proxies) Trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Client decides who a request is from: the client's address, and whether
// the client's connection is HTTPS. It is the one function that decides,
// for the rate limits, the sign-in limits, the request log and secure
// cookies. Forwarding headers count only when the connecting peer is a
// trusted proxy; then X-Forwarded-For is read from the right, past the
// trusted proxies, to the first address that is not one — what a client
// wrote further left is its own claim, which anyone can forge. Should a
// trusted proxy pass on something that is not an address, the client is
// taken to be that proxy.
func (p Proxies) Client(r *http.Request) (addr string, https bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	https = r.TLS != nil
	peer, err := netip.ParseAddr(host)
	if err != nil || !p.Trusts(peer) {
		return host, https
	}
	if proto := lastField(r.Header.Values("X-Forwarded-Proto")); proto != "" {
		// The rightmost value is the one the connecting proxy wrote.
		https = strings.EqualFold(proto, "https")
	}
	hops := fields(r.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !p.Trusts(a) {
			break
		}
	}
	return client.Unmap().String(), https
}

// parseHop reads one X-Forwarded-For element: an address, perhaps with a
// port, IPv6 perhaps in brackets.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone(""), true
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.WithZone(""), true
	}
	return netip.Addr{}, false
}

// fields splits repeated, comma-separated header values into elements.
func fields(values []string) []string {
	var out []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(f))
		}
	}
	return out
}

func lastField(values []string) string {
	f := fields(values)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// Trace is what is learnt of a request as it goes through, for the
// request log and the metrics: the client (decided once, on the way in),
// then the route and the member once the gate has admitted it.
type Trace struct {
	Client string
	HTTPS  bool
	Route  string // the route's pattern, e.g. "GET /api/v1/allegations/{id}"
	Member string // the member identified, "" if anonymous
}

type traceKey struct{}

// Trace starts the trace of r: it decides the client (Client) and returns
// r carrying the trace, which the gate completes.
func (p Proxies) Trace(r *http.Request) (*http.Request, *Trace) {
	t := &Trace{}
	t.Client, t.HTTPS = p.Client(r)
	return r.WithContext(context.WithValue(r.Context(), traceKey{}, t)), t
}

// TraceOf returns r's trace, nil if it was not started.
func TraceOf(r *http.Request) *Trace {
	t, _ := r.Context().Value(traceKey{}).(*Trace)
	return t
}

// ClientAddress is the client's IP address, as Proxies.Client decided it
// (with no proxies trusted, if r's trace was not started).
func ClientAddress(r *http.Request) string {
	if t := TraceOf(r); t != nil {
		return t.Client
	}
	a, _ := Proxies{}.Client(r)
	return a
}

// IsHTTPS reports whether the client connected over HTTPS, as
// Proxies.Client decided it.
func IsHTTPS(r *http.Request) bool {
	if t := TraceOf(r); t != nil {
		return t.HTTPS
	}
	_, https := Proxies{}.Client(r)
	return https
}

// secretPaths are the paths whose rest is a credential: an enrolment or
// password link's token, an Atom feed's token.
var secretPaths = []string{"/enrol/", "/feeds/"}

// LogPath is r's path as logs may show it: cleaned, without the query
// (which may carry anything), with the credential of a path that is one
// replaced, and any other segment that looks like a token too (a link
// mistyped still carries its secret).
func LogPath(r *http.Request) string {
	p := path.Clean("/" + r.URL.Path)
	lower := strings.ToLower(p)
	for _, s := range secretPaths {
		if strings.HasPrefix(lower, s) {
			return s + "[secret]"
		}
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if looksSecret(s) {
			segs[i] = "[secret]"
		}
	}
	p = strings.Join(segs, "/")
	if len(p) > 512 {
		p = p[:512] + "…"
	}
	return p
}

// looksSecret reports whether a path segment looks like one of the
// server's tokens (32 random bytes, base64url: 43 characters): long, and
// not hexadecimal as the SHA-256 of evidence is.
func looksSecret(s string) bool {
	if len(s) < 40 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return true
		}
	}
	return false
}
