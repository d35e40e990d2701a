package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// fields builds header fields from name, value pairs.
func bodyFields(nameValue ...string) []Field {
	var fs []Field
	for i := 0; i+1 < len(nameValue); i += 2 {
		fs = append(fs, Field{Name: nameValue[i], Value: nameValue[i+1]})
	}
	return fs
}

// chunkedBodyFields is the head of a typical chunked upload.
var chunkedBodyFields = bodyFields("Host", "example.com", "Transfer-Encoding", "chunked")

// bodyRequest returns a request head; proto "" means HTTP/1.1.
func bodyRequest(proto string, fs []Field) *Request {
	if proto == "" {
		proto = "HTTP/1.1"
	}
	return &Request{Method: "POST", Target: "/upload", Proto: proto, Fields: fs}
}

// statusCode returns the Code of a *statusError in err, or 0.
func bodyStatusCode(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestNewBodyRejectsBadFraming(t *testing.T) {
	tests := []struct {
		name     string
		proto    string
		fields   []Field
		wantCode int
	}{
		{"Content-Length with plus sign", "", bodyFields("Content-Length", "+5"), 400},
		{"negative Content-Length", "", bodyFields("Content-Length", "-1"), 400},
		{"empty Content-Length", "", bodyFields("Content-Length", ""), 400},
		{"hex Content-Length", "", bodyFields("Content-Length", "0x5"), 400},
		{"Content-Length with inner space", "", bodyFields("Content-Length", "5 5"), 400},
		{"Content-Length list with empty element", "", bodyFields("Content-Length", "5,"), 400},
		{"Content-Length list with different values", "", bodyFields("Content-Length", "5, 6"), 400},
		{"two Content-Length fields that differ", "", bodyFields("Content-Length", "5", "content-length", "6"), 400},
		{"Content-Length overflows int64", "", bodyFields("Content-Length", "99999999999999999999"), 400},
		{"Content-Length over the body limit", "", bodyFields("Content-Length", fmt.Sprint(maxBodyBytes+1)), 413},
		{"Content-Length and Transfer-Encoding", "", bodyFields("Content-Length", "5", "Transfer-Encoding", "chunked"), 400},
		{"Transfer-Encoding on HTTP/1.0", "HTTP/1.0", bodyFields("Transfer-Encoding", "chunked"), 400},
		{"empty Transfer-Encoding", "", bodyFields("Transfer-Encoding", ""), 400},
		{"gzip alone", "", bodyFields("Transfer-Encoding", "gzip"), 400},
		{"chunked not final", "", bodyFields("Transfer-Encoding", "chunked, gzip"), 400},
		{"chunked with a parameter", "", bodyFields("Transfer-Encoding", "chunked;q=1"), 400},
		{"chunked twice in one field", "", bodyFields("Transfer-Encoding", "chunked, chunked"), 400},
		{"chunked twice in two fields", "", bodyFields("Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked"), 400},
		{"gzip then chunked", "", bodyFields("Transfer-Encoding", "gzip, chunked"), 501},
		{"gzip then chunked in two fields", "", bodyFields("Transfer-Encoding", "GZIP", "transfer-encoding", "Chunked"), 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const wire = "hello"
			br := bufio.NewReader(strings.NewReader(wire))
			b, err := newBody(bodyRequest(tt.proto, tt.fields), br, io.Discard)
			if b != nil || bodyStatusCode(err) != tt.wantCode {
				t.Fatalf("newBody = %v, %v; want nil, a %d statusError", b, err, tt.wantCode)
			}
			if text := err.(*statusError).Text; text == "" || strings.ContainsAny(text, "\r\n") {
				t.Errorf("error text %q must be one non-empty line", text)
			}
			// The framing is decided before the body is touched.
			if rest, _ := io.ReadAll(br); string(rest) != wire {
				t.Errorf("bytes left on the connection = %q, want %q", rest, wire)
			}
		})
	}
}

func TestBodyYieldsExactBytes(t *testing.T) {
	const next = "GET /next HTTP/1.1\r\n\r\n" // a pipelined request after the body
	tests := []struct {
		name         string
		proto        string
		fields       []Field
		wire         string
		wantBody     string
		wantTrailers []Field
	}{
		{"no framing fields means no body", "", bodyFields("Host", "x"), next, "", nil},
		{"Content-Length", "", bodyFields("Content-Length", "5"), "hello" + next, "hello", nil},
		{"Content-Length zero", "", bodyFields("Content-Length", "0"), next, "", nil},
		{"Content-Length with leading zeros", "", bodyFields("Content-Length", "005"), "hello" + next, "hello", nil},
		{"Content-Length on HTTP/1.0", "HTTP/1.0", bodyFields("Content-Length", "5"), "hello" + next, "hello", nil},
		{"identical Content-Length list", "", bodyFields("Content-Length", "5, 5"), "hello" + next, "hello", nil},
		{"identical Content-Length fields", "", bodyFields("Content-Length", "5", "CONTENT-LENGTH", "5"), "hello" + next, "hello", nil},
		{"binary Content-Length body", "", bodyFields("Content-Length", "4"), "\x00\r\n\xff" + next, "\x00\r\n\xff", nil},
		{"chunked", "", chunkedBodyFields, "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n" + next, "hello, world", nil},
		{"chunked, case-insensitive", "", bodyFields("Transfer-Encoding", "Chunked"), "3\r\nabc\r\n0\r\n\r\n" + next, "abc", nil},
		{"chunked after an empty list element", "", bodyFields("Transfer-Encoding", " , chunked"), "3\r\nabc\r\n0\r\n\r\n" + next, "abc", nil},
		{"chunked, empty body", "", chunkedBodyFields, "0\r\n\r\n" + next, "", nil},
		{"hex sizes in both cases", "", chunkedBodyFields, "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n" + next, "0123456789abcdefghijk", nil},
		{"size with leading zeros", "", chunkedBodyFields, "00000003\r\nabc\r\n000\r\n\r\n" + next, "abc", nil},
		{"chunk data containing CRLF", "", chunkedBodyFields, "4\r\n\r\n\r\n\r\n0\r\n\r\n" + next, "\r\n\r\n", nil},
		{"extensions are ignored", "", chunkedBodyFields, "3;name=value\r\nabc\r\n2;a;b=\"q;x\"\r\nde\r\n0;last\r\n\r\n" + next, "abcde", nil},
		{"chunk size line exactly at the limit", "", chunkedBodyFields,
			"3;" + strings.Repeat("e", maxChunkLineBytes-4) + "\r\nabc\r\n0\r\n\r\n" + next, "abc", nil},
		{"whitespace before an extension", "", chunkedBodyFields, "3 ;x=1\r\nabc\r\n0\t;y\r\n\r\n" + next, "abc", nil},
		{"trailers are kept apart", "", chunkedBodyFields,
			"3\r\nabc\r\n0\r\nChecksum: abc123\r\nx-empty:\r\nX-Note:  spaced out \t\r\n\r\n" + next, "abc",
			bodyFields("Checksum", "abc123", "x-empty", "", "X-Note", "spaced out")},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":              func(r io.Reader) io.Reader { return r },
		"one byte at a time": iotest.OneByteReader,
	}
	for _, tt := range tests {
		for readerName, wrap := range readers {
			t.Run(tt.name+"/"+readerName, func(t *testing.T) {
				br := bufio.NewReader(strings.NewReader(tt.wire))
				b, err := newBody(bodyRequest(tt.proto, tt.fields), br, io.Discard)
				if err != nil {
					t.Fatalf("newBody: %v", err)
				}
				got, err := io.ReadAll(wrap(b))
				if err != nil {
					t.Fatalf("reading the body: %v", err)
				}
				if diff := cmp.Diff(tt.wantBody, string(got)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
				for range 2 {
					if n, err := b.Read(make([]byte, 8)); n != 0 || err != io.EOF {
						t.Errorf("Read after the end = %d, %v; want 0, EOF", n, err)
					}
				}
				if diff := cmp.Diff(tt.wantTrailers, b.Trailers); diff != "" {
					t.Errorf("trailers (-want +got):\n%s", diff)
				}
				if b.Err() != nil || b.drain() != nil {
					t.Errorf("Err() = %v, drain() = %v after a good body; want nil", b.Err(), b.drain())
				}
				rest, _ := io.ReadAll(br)
				if diff := cmp.Diff(next, string(rest)); diff != "" {
					t.Errorf("bytes left for the next request (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestBodyReadErrors(t *testing.T) {
	manyTrailers := strings.Repeat("X-T: 1\r\n", maxTrailerFields+1)
	bigTrailer := "X-Big: " + strings.Repeat("a", maxTrailerBytes) + "\r\n"
	bigTrailers := strings.Repeat("X-Kilo: "+strings.Repeat("k", 1000)+"\r\n", 20)
	longExtension := "3;" + strings.Repeat("e", maxChunkLineBytes-3) + "\r\nabc\r\n0\r\n\r\n"
	tests := []struct {
		name     string
		fields   []Field
		wire     string
		wantBody string // what Read delivered before failing
		wantCode int    // the *statusError code, or 0 ...
		wantErr  error  // ... for this plain error
	}{
		{"Content-Length body cut short", bodyFields("Content-Length", "10"), "hello", "hello", 0, io.ErrUnexpectedEOF},
		{"chunk size with 0x prefix", chunkedBodyFields, "0x3\r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"chunk size with leading space", chunkedBodyFields, " 3\r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"chunk size with trailing space", chunkedBodyFields, "3 \r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"chunk size with sign", chunkedBodyFields, "+3\r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"chunk size not hex", chunkedBodyFields, "g\r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"empty chunk size line", chunkedBodyFields, "\r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"empty chunk size before extension", chunkedBodyFields, ";x\r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"chunk size with nine digits", chunkedBodyFields, "000000003\r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"chunk size line ends in bare LF", chunkedBodyFields, "3\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"bare CR inside an extension", chunkedBodyFields, "3;a\rb\r\nabc\r\n0\r\n\r\n", "", 400, nil},
		{"chunk size line one byte too long", chunkedBodyFields, longExtension, "", 400, nil},
		{"chunk data followed by junk", chunkedBodyFields, "3\r\nabcX\r\n0\r\n\r\n", "abc", 400, nil},
		{"chunk data followed by bare LF", chunkedBodyFields, "3\r\nabc\n0\r\n\r\n", "abc", 400, nil},
		{"chunk longer than its size", chunkedBodyFields, "2\r\nabc\r\n0\r\n\r\n", "ab", 400, nil},
		{"chunk body over the limit", chunkedBodyFields, fmt.Sprintf("%x\r\n", maxBodyBytes+1), "", 413, nil},
		{"trailer name with space", chunkedBodyFields, "0\r\nBad Name: x\r\n\r\n", "", 400, nil},
		{"trailer without colon", chunkedBodyFields, "0\r\nNoColon\r\n\r\n", "", 400, nil},
		{"trailer with empty name", chunkedBodyFields, "0\r\n: x\r\n\r\n", "", 400, nil},
		{"trailer folded onto two lines", chunkedBodyFields, "0\r\nX-A: 1\r\n  continued\r\n\r\n", "", 400, nil},
		{"trailer with NUL", chunkedBodyFields, "0\r\nX-A: a\x00b\r\n\r\n", "", 400, nil},
		{"too many trailers", chunkedBodyFields, "0\r\n" + manyTrailers + "\r\n", "", 431, nil},
		{"one trailer too large", chunkedBodyFields, "0\r\n" + bigTrailer + "\r\n", "", 431, nil},
		{"trailers too large together", chunkedBodyFields, "0\r\n" + bigTrailers + "\r\n", "", 431, nil},
		{"connection ends in chunk size", chunkedBodyFields, "3", "", 0, io.ErrUnexpectedEOF},
		{"connection ends in chunk data", chunkedBodyFields, "5\r\nhel", "hel", 0, io.ErrUnexpectedEOF},
		{"connection ends before chunk CRLF", chunkedBodyFields, "3\r\nabc", "abc", 0, io.ErrUnexpectedEOF},
		{"connection ends before last chunk", chunkedBodyFields, "3\r\nabc\r\n", "abc", 0, io.ErrUnexpectedEOF},
		{"connection ends in trailers", chunkedBodyFields, "0\r\nX-A: 1\r\n", "", 0, io.ErrUnexpectedEOF},
		{"connection ends before final CRLF", chunkedBodyFields, "0\r\n", "", 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.wire))
			b, err := newBody(bodyRequest("", tt.fields), br, io.Discard)
			if err != nil {
				t.Fatalf("newBody: %v", err)
			}
			got, err := io.ReadAll(iotest.OneByteReader(b))
			if diff := cmp.Diff(tt.wantBody, string(got)); diff != "" {
				t.Errorf("bytes delivered before the error (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil && err != tt.wantErr || bodyStatusCode(err) != tt.wantCode {
				t.Fatalf("read error = %v; want code %d / error %v", err, tt.wantCode, tt.wantErr)
			}
			// The error sticks: the server sees the very same value later.
			if n, again := b.Read(make([]byte, 8)); n != 0 || again != err {
				t.Errorf("next Read = %d, %v; want 0, %v", n, again, err)
			}
			if b.Err() != err || b.drain() != err {
				t.Errorf("Err() = %v, drain() = %v; want %v", b.Err(), b.drain(), err)
			}
		})
	}
}

func TestBodyLimits(t *testing.T) {
	full := strings.Repeat("z", maxBodyBytes)
	half := fmt.Sprintf("%x\r\n%s\r\n", maxBodyBytes/2, full[:maxBodyBytes/2])
	tests := []struct {
		name     string
		fields   []Field
		wire     string
		wantLen  int
		wantCode int
	}{
		{"Content-Length at the limit", bodyFields("Content-Length", fmt.Sprint(maxBodyBytes)), full, maxBodyBytes, 0},
		{"chunked at the limit", chunkedBodyFields, half + half + "0\r\n\r\n", maxBodyBytes, 0},
		{"chunked one byte over the limit", chunkedBodyFields, half + half + "1\r\nz\r\n0\r\n\r\n", maxBodyBytes, 413},
		// 16 one-byte chunks whose size lines, with their extensions and
		// the last "0\r\n", fill the budget exactly, then by one byte more:
		// the last line, "0\r\n", is the one over.
		{"chunk size lines at their budget", chunkedBodyFields, extensionHeavy(maxChunkLinesSum), 16, 0},
		{"chunk size lines one byte over their budget", chunkedBodyFields, extensionHeavy(maxChunkLinesSum + 1), 16, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.wire))
			b, err := newBody(bodyRequest("", tt.fields), br, io.Discard)
			if err != nil {
				t.Fatalf("newBody: %v", err)
			}
			got, err := io.ReadAll(b)
			if len(got) != tt.wantLen || bodyStatusCode(err) != tt.wantCode {
				t.Errorf("read %d bytes, error %v; want %d bytes, code %d", len(got), err, tt.wantLen, tt.wantCode)
			}
		})
	}
}

// extensionHeavy is a chunked body of 16 one-byte chunks whose size lines
// ("1;eee…\r\n", then "0\r\n") take lineBytes bytes together.
func extensionHeavy(lineBytes int) string {
	var b strings.Builder
	left := lineBytes - len("0\r\n")
	for i := range 16 {
		line := left / (16 - i) // spread the bytes over the 16 lines
		left -= line
		b.WriteString("1;" + strings.Repeat("e", line-len("1;\r\n")) + "\r\nz\r\n")
	}
	return b.String() + "0\r\n\r\n"
}

// patientClient is the client end of a connection whose head said
// "Expect: 100-continue": it sends no body byte until the interim
// response has arrived.
type patientClient struct {
	interim *bytes.Buffer
	body    io.Reader
}

func (c *patientClient) Read(p []byte) (int, error) {
	if c.interim.Len() == 0 {
		return 0, errors.New("server read the body before sending 100 Continue")
	}
	return c.body.Read(p)
}

func TestExpectContinue(t *testing.T) {
	const sent = "HTTP/1.1 100 Continue\r\n\r\n"
	tests := []struct {
		name        string
		proto       string
		fields      []Field
		wire        string
		wantBody    string
		wantInterim string
	}{
		{"Content-Length", "", bodyFields("Expect", "100-continue", "Content-Length", "5"), "hello", "hello", sent},
		{"chunked", "", bodyFields("Expect", "100-continue", "Transfer-Encoding", "chunked"), "5\r\nhello\r\n0\r\n\r\n", "hello", sent},
		{"value is case-insensitive", "", bodyFields("expect", "100-Continue", "Content-Length", "5"), "hello", "hello", sent},
		{"HTTP/1.0 gets none", "HTTP/1.0", bodyFields("Expect", "100-continue", "Content-Length", "5"), "hello", "hello", ""},
		{"other expectations are ignored", "", bodyFields("Expect", "something-else", "Content-Length", "5"), "hello", "hello", ""},
		{"no body, nothing to wait for", "", bodyFields("Expect", "100-continue"), "", "", ""},
		{"empty body, nothing to wait for", "", bodyFields("Expect", "100-continue", "Content-Length", "0"), "", "", ""},
		{"no Expect field", "", bodyFields("Content-Length", "5"), "hello", "hello", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var interim bytes.Buffer
			var conn io.Reader = strings.NewReader(tt.wire)
			if tt.wantInterim != "" {
				conn = &patientClient{interim: &interim, body: conn}
			}
			b, err := newBody(bodyRequest(tt.proto, tt.fields), bufio.NewReader(conn), &interim)
			if err != nil {
				t.Fatalf("newBody: %v", err)
			}
			if interim.Len() != 0 {
				t.Fatalf("newBody wrote %q; the interim response waits for the first Read", interim.String())
			}
			got, err := io.ReadAll(iotest.OneByteReader(b)) // many Reads, one 100 Continue
			if err != nil {
				t.Fatalf("reading the body: %v", err)
			}
			if diff := cmp.Diff(tt.wantBody, string(got)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantInterim, interim.String()); diff != "" {
				t.Errorf("interim responses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpectContinueWithoutRead(t *testing.T) {
	var interim bytes.Buffer
	conn := &patientClient{interim: &interim, body: strings.NewReader("hello")}
	b, err := newBody(bodyRequest("", bodyFields("Expect", "100-continue", "Content-Length", "5")), bufio.NewReader(conn), &interim)
	if err != nil {
		t.Fatalf("newBody: %v", err)
	}
	// The app answered without reading: the client never got its go-ahead,
	// so draining would wait for a body that may never come.
	if err := b.drain(); err != errContinueNotSent {
		t.Errorf("drain() = %v; want errContinueNotSent", err)
	}
	if interim.Len() != 0 {
		t.Errorf("interim = %q; want nothing sent when the app never reads", interim.String())
	}
}

func TestExpectContinueIsFlushed(t *testing.T) {
	var wire bytes.Buffer
	buffered := bufio.NewWriter(&wire)
	b, err := newBody(bodyRequest("", bodyFields("Expect", "100-continue", "Content-Length", "2")), bufio.NewReader(strings.NewReader("ok")), buffered)
	if err != nil {
		t.Fatalf("newBody: %v", err)
	}
	if _, err := b.Read(make([]byte, 2)); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got := wire.String(); got != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Errorf("on the wire after the first Read: %q; a buffered interim writer must be flushed", got)
	}
}

func TestExpectContinueWriteFails(t *testing.T) {
	gone := errors.New("connection reset")
	failing := failingWriterFunc(func([]byte) (int, error) { return 0, gone })
	b, err := newBody(bodyRequest("", bodyFields("Expect", "100-continue", "Content-Length", "2")), bufio.NewReader(strings.NewReader("ok")), failing)
	if err != nil {
		t.Fatalf("newBody: %v", err)
	}
	for range 2 {
		if n, err := b.Read(make([]byte, 2)); n != 0 || err != gone {
			t.Errorf("Read = %d, %v; want 0, %v", n, err, gone)
		}
	}
	if b.Err() != gone {
		t.Errorf("Err() = %v; want %v", b.Err(), gone)
	}
}

type failingWriterFunc func([]byte) (int, error)

func (f failingWriterFunc) Write(p []byte) (int, error) { return f(p) }

func TestDrainLeavesNextRequest(t *testing.T) {
	const next = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name      string
		fields    []Field
		wire      string
		readFirst int // bytes the app read before the server drains
	}{
		{"unread Content-Length body", bodyFields("Content-Length", "11"), "hello world" + next, 0},
		{"half-read Content-Length body", bodyFields("Content-Length", "11"), "hello world" + next, 5},
		{"unread chunked body with trailers", chunkedBodyFields, "5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n" + next, 0},
		{"half-read chunked body", chunkedBodyFields, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" + next, 7},
		{"no body", bodyFields("Host", "x"), next, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.wire))
			b, err := newBody(bodyRequest("", tt.fields), br, io.Discard)
			if err != nil {
				t.Fatalf("newBody: %v", err)
			}
			if _, err := io.ReadFull(b, make([]byte, tt.readFirst)); err != nil {
				t.Fatalf("app read: %v", err)
			}
			if err := b.drain(); err != nil {
				t.Fatalf("drain: %v", err)
			}
			rest, _ := io.ReadAll(br)
			if diff := cmp.Diff(next, string(rest)); diff != "" {
				t.Errorf("next request on the connection (-want +got):\n%s", diff)
			}
		})
	}
}
