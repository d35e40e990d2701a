//go:build exercise

package exercise

import (
	"testing"

	"example.com/wsgicourse/step04-environ/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// client is what the app learns of who asked and how.
type client struct {
	RemoteAddr, URLScheme string
}

// ask sends a GET with the header lines given and reads REMOTE_ADDR and
// wsgi.url_scheme back from the echoed environ.
func ask(t *testing.T, addr string, headers ...string) (*check.Response, client) {
	t.Helper()
	c := check.Dial(t, addr)
	r := c.Get("/", headers...)
	env := check.Environ(r.Body)
	return r, client{env["REMOTE_ADDR"], env["wsgi.url_scheme"]}
}

// Behind the proxy given by -trusted-proxy, the client's address is the
// last one the proxy added to X-Forwarded-For, and the scheme is what
// X-Forwarded-Proto says; from anyone else, both fields are ignored.
func TestTrustedProxy(t *testing.T) {
	// The check connects from 127.0.0.1: that is the proxy here.
	behind := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-trusted-proxy", "127.0.0.1")
	for _, tt := range []struct {
		what    string
		headers []string
		want    client
	}{
		{"one hop, https", []string{"X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https"}, client{"203.0.113.7", "https"}},
		// The client may send an X-Forwarded-For of its own; only the
		// last address, the one the proxy added, can be trusted.
		{"the client's claim, then the proxy's", []string{"X-Forwarded-For: 198.51.100.1, 203.0.113.7"}, client{"203.0.113.7", "http"}},
		{"two field lines", []string{"X-Forwarded-For: 198.51.100.1", "X-Forwarded-For: 203.0.113.9"}, client{"203.0.113.9", "http"}},
		{"IPv6", []string{"X-Forwarded-For: 2001:db8::1", "X-Forwarded-Proto: HTTPS"}, client{"2001:db8::1", "https"}},
		{"not an address, not a scheme", []string{"X-Forwarded-For: not-an-address", "X-Forwarded-Proto: gopher"}, client{"127.0.0.1", "http"}},
		{"no forwarding fields", nil, client{"127.0.0.1", "http"}},
	} {
		r, got := ask(t, behind, tt.headers...)
		r.Expect("through the trusted proxy, "+tt.what, tt.want, got)
	}

	// Trusting another address, the same fields from 127.0.0.1 are a
	// client's claims, and change nothing.
	direct := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-trusted-proxy", "192.0.2.1")
	r, got := ask(t, direct, "X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https")
	r.Expect("from a client that is not the trusted proxy", client{"127.0.0.1", "http"}, got)
}
