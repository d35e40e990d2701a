//go:build exercise

package exercise

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"example.com/wsgicourse/step04-environ/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// digest is what the answer to /digest says about a body.
type digest struct {
	Status int
	Bytes  int
	SHA256 string
}

var (
	byteCount = regexp.MustCompile(`([0-9]+) bytes`)
	hexDigest = regexp.MustCompile(`[0-9a-f]{64}`)
)

// /digest reads the whole body from wsgi.input and answers with its
// length and SHA-256, however the body was framed.
func TestBodyDigest(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	text := "hello, wsgi.input\n"
	large := strings.Repeat("0123456789abcdef", 20000) // 320000 bytes: many reads, many TCP segments
	for _, tt := range []struct {
		what, request, body string
	}{
		{"a body with Content-Length",
			"POST /digest HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: 18\r\n\r\n" + text, text},
		{"the same body in three chunks",
			"POST /digest HTTP/1.1\r\nHost: " + addr + "\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"5\r\nhello\r\n7\r\n, wsgi.\r\n6\r\ninput\n\r\n0\r\n\r\n", text},
		{"no body", "GET /digest HTTP/1.1\r\nHost: " + addr + "\r\n\r\n", ""},
		{"320000 bytes",
			"PUT /digest HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: " + strconv.Itoa(len(large)) + "\r\n\r\n" + large, large},
	} {
		r := check.Dial(t, addr).Send(tt.request)
		want := digest{200, len(tt.body), fmt.Sprintf("%x", sha256.Sum256([]byte(tt.body)))}
		got := digest{Status: r.Status, SHA256: hexDigest.FindString(string(r.Body))}
		if m := byteCount.FindStringSubmatch(string(r.Body)); m != nil {
			got.Bytes, _ = strconv.Atoi(m[1])
		} else {
			got.Bytes = -1 // no "N bytes" in the answer
		}
		r.Expect("/digest of "+tt.what, want, got)
	}

	// Other paths still echo the environ.
	r := check.Dial(t, addr).Get("/")
	r.Expect("GET /, which still echoes the environ", "/", check.Environ(r.Body)["PATH_INFO"])
}
