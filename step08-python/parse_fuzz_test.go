package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// FuzzReadRequest feeds readRequest arbitrary bytes. The seeds below run in
// every plain `go test`; `go test -fuzz FuzzReadRequest` searches further.
func FuzzReadRequest(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\n",
		"POST /form?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"\r\n\r\nGET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\t\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
		"GET / http/1.1\r\nHost: a\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n",
		"GET  /  HTTP/1.1\r\n\r\n",
		"",
		"\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		req := new(Request)
		err := readRequest(bufio.NewReader(bytes.NewReader(head)), req, nil)

		// How the bytes arrive must not change the answer.
		slow := bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(head)), 16)
		req2 := new(Request)
		err2 := readRequest(slow, req2, nil)
		if diff := cmp.Diff(req, req2); diff != "" || errString(err) != errString(err2) {
			t.Fatalf("one byte at a time gives %v, %v; all at once %v, %v", req2, err2, req, err)
		}

		if err == io.EOF {
			return
		}
		var se *statusError
		if errors.As(err, &se) {
			switch se.Code {
			case 400, 414, 431, 501, 505:
			default:
				t.Fatalf("unexpected status code in %v", se)
			}
			if strings.ContainsAny(se.Text, "\r\n") {
				t.Fatalf("error text %q is not a single line", se.Text)
			}
			return
		}
		if err != nil {
			t.Fatalf("error %v is neither a *statusError nor io.EOF", err)
		}
		checkRequest(t, req)
	})
}

// checkRequest fails t if req breaks a promise readRequest makes.
func checkRequest(t *testing.T, req *Request) {
	t.Helper()
	if !isToken(req.Method) {
		t.Errorf("method %q is not a token", req.Method)
	}
	if req.Proto != "HTTP/1.1" && req.Proto != "HTTP/1.0" {
		t.Errorf("proto %q accepted", req.Proto)
	}
	if req.Target == "" || strings.ContainsFunc(req.Target, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		t.Errorf("target %q is empty or not visible ASCII", req.Target)
	}
	if strings.Contains(req.Target, "#") {
		t.Errorf("target %q has a fragment", req.Target)
	}
	if req.Method == "CONNECT" {
		t.Errorf("CONNECT %s accepted, want 501", req.Target)
	}
	if len(req.Fields) > maxHeaderFields {
		t.Errorf("%d fields accepted", len(req.Fields))
	}
	for _, f := range req.Fields {
		if !isToken(f.Name) {
			t.Errorf("field name %q is not a token", f.Name)
		}
		if strings.ContainsFunc(f.Value, func(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }) {
			t.Errorf("field %s value %q has a control byte", f.Name, f.Value)
		}
		if strings.Trim(f.Value, " \t") != f.Value {
			t.Errorf("field %s value %q is not trimmed", f.Name, f.Value)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
