package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeChunked reads wire as a chunked request body and returns the
// de-chunked bytes, the trailers and what is left on the connection.
func decodeChunked(t *testing.T, wire []byte) (got []byte, trailers []Field, rest []byte, err error) {
	br := bufio.NewReader(bytes.NewReader(wire))
	b, err := newBody(bodyRequest("", chunkedBodyFields), br, io.Discard)
	if err != nil {
		t.Fatalf("newBody: %v", err) // the framing fields are fixed and valid
	}
	// Read one byte past the limit so an unbounded decoder would show.
	got, err = io.ReadAll(io.LimitReader(b, maxBodyBytes+1))
	rest, _ = io.ReadAll(br)
	return got, b.Trailers, rest, err
}

// FuzzChunkedBody feeds arbitrary bytes to the chunked decoder. The seeds
// run in every plain `go test`; `go test -fuzz FuzzChunkedBody` explores.
func FuzzChunkedBody(f *testing.F) {
	for _, seed := range []string{
		"0\r\n\r\n",
		"5\r\nhello\r\n0\r\n\r\n",
		"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"a;ext=1\r\n0123456789\r\n0;x\r\n\r\n",
		"3 ;x\r\nabc\r\n0\r\n\r\n",
		"3\r\nabc\r\n0\r\nChecksum: 1\r\nX-B:  two \r\n\r\n",
		"3\r\nabcX\r\n0\r\n\r\n",
		"0x3\r\nabc\r\n0\r\n\r\n",
		"000000003\r\nabc\r\n0\r\n\r\n",
		"3\nabc\n0\n\n",
		"ffffffff\r\n",
		"0\r\nBad Name: x\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		got, trailers, rest, err := decodeChunked(t, wire)
		if len(got) > maxBodyBytes {
			t.Fatalf("decoder yielded %d bytes, over the %d limit", len(got), maxBodyBytes)
		}
		var se *statusError
		if err != nil && !errors.As(err, &se) && err != io.ErrUnexpectedEOF {
			t.Fatalf("unexpected error kind %T: %v", err, err)
		}
		if err != nil {
			return
		}
		// Accepted: say the same thing again in the plainest encoding.
		var again strings.Builder
		if len(got) > 0 {
			fmt.Fprintf(&again, "%x\r\n%s\r\n", len(got), got)
		}
		again.WriteString("0\r\n")
		for _, tr := range trailers {
			fmt.Fprintf(&again, "%s: %s\r\n", tr.Name, tr.Value)
		}
		again.WriteString("\r\n")
		again.Write(rest)
		got2, trailers2, rest2, err := decodeChunked(t, []byte(again.String()))
		if err != nil {
			t.Fatalf("re-encoded body %q rejected: %v", again.String(), err)
		}
		if diff := cmp.Diff(got, got2); diff != "" {
			t.Errorf("body after re-encoding (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(trailers, trailers2); diff != "" {
			t.Errorf("trailers after re-encoding (-want +got):\n%s", diff)
		}
		if !bytes.Equal(rest, rest2) {
			t.Errorf("bytes after the body changed: %q, then %q", rest, rest2)
		}
	})
}
