//go:build exercise

package exercise

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"example.com/wsgicourse/step05-start-response/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// encoded is what a response says about its encoding, and its body as
// the client reads it once it has undone that encoding.
type encoded struct {
	Status          int
	ContentEncoding string
	VariesByAccept  bool // Vary names Accept-Encoding: a cache must not give this to another client
	Body            string
	Undecodable     string // the gzip reader's complaint, if any
}

func read(r *check.Response) encoded {
	e := encoded{Status: r.Status, ContentEncoding: r.Header.Get("Content-Encoding"),
		VariesByAccept: strings.Contains(strings.ToLower(strings.Join(r.Header.Values("Vary"), ",")), "accept-encoding"),
		Body:           string(r.Body)}
	if e.ContentEncoding == "gzip" {
		e.Body = ""
		zr, err := gzip.NewReader(bytes.NewReader(r.Body))
		if err == nil {
			var body []byte
			body, err = io.ReadAll(zr)
			e.Body = string(body)
		}
		if err != nil {
			e.Undecodable = err.Error()
		}
	}
	return e
}

const sizedBody = "three chunks, one Content-Length from the app\n"

func TestGzip(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	conn := check.Dial(t, addr)

	// The app's own Content-Length counts the bytes before compression:
	// it must not go out with the compressed ones.
	r := conn.Get("/sized", "Accept-Encoding: gzip")
	r.Expect(t, "GET /sized, Accept-Encoding: gzip", encoded{200, "gzip", true, sizedBody, ""}, read(r))

	// Same connection: the framing of the compressed body was right.
	r = conn.Get("/stream", "Accept-Encoding: deflate, GZIP")
	r.Expect(t, "GET /stream, Accept-Encoding: deflate, GZIP (on the same connection)",
		encoded{200, "gzip", true, "one\ntwo\nthree\n", ""}, read(r))

	r = conn.Get("/write", "Accept-Encoding: gzip")
	r.Expect(t, "GET /write (the app uses write()), Accept-Encoding: gzip",
		encoded{200, "gzip", true, "written with write()\nthen yielded from the body\n", ""}, read(r))

	for _, accept := range []string{"", "Accept-Encoding: gzip;q=0", "Accept-Encoding: identity", "Accept-Encoding: br"} {
		var r *check.Response
		if accept == "" {
			r = conn.Get("/sized")
		} else {
			r = conn.Get("/sized", accept)
		}
		got := read(r)
		r.Expect(t, "GET /sized, "+accept+": not compressed", encoded{200, "", got.VariesByAccept, sizedBody, ""}, got)
	}

	r = conn.Send(conn.Request("HEAD", "/sized", "Accept-Encoding: gzip"))
	r.Expect(t, "HEAD /sized, Accept-Encoding: gzip: the headers GET gets, no body",
		encoded{200, "gzip", true, "", "EOF"}, read(r))

	// PEP 3333: middleware must not hold a chunk back waiting for more.
	// The first chunk of /error-after goes out before the app fails: the
	// client must be able to read it, compressed, from the cut body.
	r = check.Dial(t, addr).SendCut(conn.Request("GET", "/error-after", "Accept-Encoding: gzip"))
	got := read(r)
	r.Expect(t, "GET /error-after, Accept-Encoding: gzip: the first chunk, compressed and sent before the failure",
		encoded{200, "gzip", true, "the first chunk went out, then the app failed\n", got.Undecodable}, got)
}
