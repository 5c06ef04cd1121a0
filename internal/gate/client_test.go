package gate

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func request(peer string, headers ...string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = peer
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestClient(t *testing.T) {
	proxies, err := ParseProxies([]string{"127.0.0.1", "10.0.0.0/8", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		p       Proxies
		r       *http.Request
		tls     bool
		want    string
		wantTLS bool
	}{
		{"no proxies: the peer, whatever it says", Proxies{}, request("203.0.113.5:4000", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https"), false, "203.0.113.5", false},
		{"an untrusted peer's headers are its own claim", proxies, request("203.0.113.5:4000", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-Proto", "https"), false, "203.0.113.5", false},
		{"a trusted proxy names the client", proxies, request("127.0.0.1:4000", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https"), false, "198.51.100.7", true},
		{"the rightmost untrusted hop, not what the client wrote", proxies, request("127.0.0.1:4000", "X-Forwarded-For", "1.2.3.4, 6.6.6.6, 10.0.0.2"), false, "6.6.6.6", false},
		{"an untrusted hop in the middle ends the walk", proxies, request("10.1.1.1:4000", "X-Forwarded-For", "10.9.9.9, 6.6.6.6, 10.0.0.2, 10.0.0.3"), false, "6.6.6.6", false},
		{"repeated headers are one list", proxies, request("127.0.0.1:4000", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-For", "6.6.6.6, 10.0.0.2"), false, "6.6.6.6", false},
		{"every hop trusted: the first", proxies, request("127.0.0.1:4000", "X-Forwarded-For", "10.0.0.9, 10.0.0.2"), false, "10.0.0.9", false},
		{"no header: the proxy itself", proxies, request("127.0.0.1:4000"), false, "127.0.0.1", false},
		{"garbage from a trusted hop: that hop", proxies, request("127.0.0.1:4000", "X-Forwarded-For", "6.6.6.6, not-an-address, 10.0.0.2"), false, "10.0.0.2", false},
		{"ports and brackets", proxies, request("[fd00::1]:4000", "X-Forwarded-For", "[2001:db8::5]:443, 198.51.100.7:1234"), false, "198.51.100.7", false},
		{"IPv6 client", proxies, request("[fd00::1]:4000", "X-Forwarded-For", "2001:db8::5"), false, "2001:db8::5", false},
		{"IPv4 in IPv6 is IPv4", proxies, request("[::ffff:127.0.0.1]:4000", "X-Forwarded-For", "::ffff:6.6.6.6"), false, "6.6.6.6", false},
		{"the proto the nearest proxy wrote", proxies, request("127.0.0.1:4000", "X-Forwarded-Proto", "http, https"), false, "127.0.0.1", true},
		{"a direct TLS connection", proxies, request("203.0.113.5:4000"), true, "203.0.113.5", true},
		{"a trusted proxy reached over TLS says http", proxies, request("127.0.0.1:4000", "X-Forwarded-Proto", "http"), true, "127.0.0.1", false},
	} {
		if c.tls {
			c.r.TLS = &tls.ConnectionState{}
		}
		got, https := c.p.Client(c.r)
		if got != c.want || https != c.wantTLS {
			t.Errorf("%s: Client = %s, https %v; want %s, %v", c.name, got, https, c.want, c.wantTLS)
		}
		r, tr := c.p.Trace(c.r)
		if ClientAddress(r) != c.want || IsHTTPS(r) != c.wantTLS || tr.Client != c.want {
			t.Errorf("%s: the trace says %s, https %v", c.name, ClientAddress(r), IsHTTPS(r))
		}
	}
	// Without a trace, as without proxies.
	if a := ClientAddress(request("127.0.0.1:4000", "X-Forwarded-For", "6.6.6.6")); a != "127.0.0.1" {
		t.Errorf("ClientAddress without a trace = %s", a)
	}
}

func TestParseProxies(t *testing.T) {
	p, err := ParseProxies([]string{" 192.168.0.0/16 ", "::ffff:10.0.0.0/104", "2001:db8::1", ""})
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{"192.168.3.4": true, "192.169.0.1": false, "10.1.2.3": true, "11.0.0.1": false, "2001:db8::1": true, "2001:db8::2": false} {
		if got := p.Trusts(netip.MustParseAddr(a)); got != want {
			t.Errorf("Trusts(%s) = %v", a, got)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.0/8/8", "1.2.3"} {
		if _, err := ParseProxies([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseProxies(%q) = %v", bad, err)
		}
	}
}

// FuzzClient: whatever a client sends, the address decided is one that
// was on the wire (the peer, or an element of the header), and a peer
// that is not trusted is never overridden.
func FuzzClient(f *testing.F) {
	f.Add("127.0.0.1:1", "1.2.3.4, 6.6.6.6, 10.0.0.2", "https")
	f.Add("203.0.113.9:1", "1.2.3.4", "https")
	f.Add("[::1]:1", "[::1]:80,,, ::ffff:1.1.1.1", "HTTPS , http")
	proxies, _ := ParseProxies([]string{"127.0.0.0/8", "::1", "10.0.0.0/8"})
	f.Fuzz(func(t *testing.T, peer, xff, proto string) {
		r := request(peer, "X-Forwarded-For", xff, "X-Forwarded-Proto", proto)
		addr, https := proxies.Client(r)
		direct, _ := Proxies{}.Client(r)
		pa, err := netip.ParseAddr(direct)
		if err != nil || !proxies.Trusts(pa) {
			if addr != direct || https {
				t.Fatalf("untrusted peer %q: decided %s, https %v", peer, addr, https)
			}
			return
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			t.Fatalf("decided %q, not an address", addr)
		}
		if a == pa.Unmap() {
			return
		}
		for _, h := range fields([]string{xff}) {
			if b, ok := parseHop(h); ok && b.Unmap() == a {
				return
			}
		}
		t.Fatalf("decided %s, neither the peer nor in %q", addr, xff)
	})
}

func TestLogPath(t *testing.T) {
	const tok = "q0Vd3k2xJ9mZ_u-7sQ1bT5wYc8LrA6eHnP4fGiKoMjU"
	for in, want := range map[string]string{
		"/api/v1/allegations/alg-1":                   "/api/v1/allegations/alg-1",
		"/enrol/" + tok:                               "/enrol/[secret]",
		"/feeds/" + tok + ".atom":                     "/feeds/[secret]",
		"/a/../enrol/" + tok:                          "/enrol/[secret]",
		"//feeds//" + tok + ".atom":                   "/feeds/[secret]",
		"/ENROL/" + tok:                               "/enrol/[secret]",
		"/enrl/" + tok:                                "/enrl/[secret]",
		"/api/v1/blobs/" + strings.Repeat("ab12", 16): "/api/v1/blobs/" + strings.Repeat("ab12", 16),
		"/signin":                                     "/signin",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = in
		r.URL.RawQuery = "token=" + tok
		if got := LogPath(r); got != want {
			t.Errorf("LogPath(%s) = %s, want %s", in, got, want)
		}
	}
}
