package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Limits on what a client may make us read. Without them a body, a chunk
// line or a trailer section could grow without end and exhaust memory.
const (
	maxBodyBytes      = 1 << 20  // de-chunked or Content-Length body
	maxChunkSizeHex   = 8        // hex digits in a chunk size: up to 4 GiB, then 413 anyway
	maxChunkLineBytes = 4096     // a whole chunk-size line, extensions and CRLF included
	maxChunkLinesSum  = 64 << 10 // all chunk-size lines of one body together, extensions and CRLFs included
	maxTrailerFields  = 100
	maxTrailerBytes   = 16 << 10
)

// errContinueNotSent tells the server the client may still be waiting for
// "100 Continue" before it sends the body. Reading on could block forever and
// skipping the body could parse it as the next request, so: close.
var errContinueNotSent = errors.New("client still awaits 100 Continue: close the connection")

// body is wsgi.input: an io.Reader that ends exactly at the end of the body.
type body struct {
	br        *bufio.Reader
	chunked   bool
	remaining int64     // bytes left in the Content-Length body, or in the current chunk
	total     int64     // de-chunked bytes delivered so far
	lineBytes int       // bytes of chunk-size lines read so far (maxChunkLinesSum)
	done      bool      // chunked body fully read, trailers included
	interim   io.Writer // where "100 Continue" goes on the first Read; nil once sent
	err       error     // sticky: once a Read fails, every later Read fails the same way
	Trailers  []Field   // chunked trailer fields, kept apart from the request head
}

func badFraming(text string) *statusError { return &statusError{Code: 400, Text: text} }

func bodyTooLarge() *statusError {
	return &statusError{Code: 413, Text: fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes)}
}

// newBody decides how the request body is framed (RFC 9112 §6.3, message body
// length) before any body byte is read, so a framing error can still be
// answered with a clean error response. Errors are *statusError. interim
// receives "100 Continue" (see Read); a nil interim never sends it.
func newBody(req *Request, br *bufio.Reader, interim io.Writer) (*body, error) {
	b := new(body)
	if err := b.frame(req, br, interim); err != nil {
		return nil, err
	}
	return b, nil
}

// frame is newBody in a body that is already there: the server's lives in
// the request's perRequest (server.go), made with its response in one allocation.
func (b *body) frame(req *Request, br *bufio.Reader, interim io.Writer) error {
	var lengths, codings []string
	var sawLength, sawCoding, expectContinue bool
	for _, f := range req.Fields {
		switch {
		case strings.EqualFold(f.Name, "Content-Length"):
			sawLength = true
			lengths = append(lengths, splitCommaList(f.Value)...)
		case strings.EqualFold(f.Name, "Transfer-Encoding"):
			sawCoding = true
			codings = append(codings, splitCommaList(f.Value)...)
		case strings.EqualFold(f.Name, "Expect"):
			// RFC 9110 §10.1.1 lets a server answer 417 to other expectations;
			// the course simply ignores them.
			expectContinue = expectContinue || strings.EqualFold(f.Value, "100-continue")
		}
	}
	*b = body{br: br}
	switch {
	case sawLength && sawCoding:
		// Two framings invite request smuggling: a proxy may trust one and
		// us the other (RFC 9112 §6.1 lets a server reject; we do).
		return badFraming("both Content-Length and Transfer-Encoding are present")
	case sawCoding:
		if err := checkCodings(req.Proto, codings); err != nil {
			return err
		}
		b.chunked = true
	case sawLength:
		n, err := parseContentLength(lengths)
		if err != nil {
			return err
		}
		b.remaining = n
	}
	// With neither field a request has no body (RFC 9112 §6.3 rule 6).
	if expectContinue && req.Proto == "HTTP/1.1" && (b.chunked || b.remaining > 0) {
		b.interim = interim
	}
	return nil
}

// splitCommaList splits a comma-separated field value into trimmed elements.
func splitCommaList(value string) []string {
	parts := strings.Split(value, ",")
	for i, p := range parts {
		parts[i] = strings.Trim(p, " \t")
	}
	return parts
}

// parseContentLength accepts 1*DIGIT, repeated identically at most
// (RFC 9110 §8.6 allows "5, 5" or two equal fields).
func parseContentLength(values []string) (int64, error) {
	var n int64
	for i, v := range values {
		if v == "" || strings.Trim(v, "0123456789") != "" {
			return 0, badFraming("Content-Length must be digits only")
		}
		m, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, badFraming("Content-Length is out of range")
		}
		if i > 0 && m != n {
			return 0, badFraming("Content-Length values differ")
		}
		n = m
	}
	if n > maxBodyBytes {
		return 0, bodyTooLarge()
	}
	return n, nil
}

// checkCodings accepts exactly one transfer coding: chunked (RFC 9112 §6.1).
func checkCodings(proto string, list []string) error {
	if proto == "HTTP/1.0" {
		// HTTP/1.0 has no Transfer-Encoding; a 1.0 proxy may not understand it.
		return badFraming("Transfer-Encoding is not allowed in HTTP/1.0")
	}
	var codings []string
	for _, c := range list {
		if c != "" { // empty list elements are allowed and mean nothing (RFC 9110 §5.6.1)
			codings = append(codings, strings.ToLower(c))
		}
	}
	last := len(codings) - 1
	if last < 0 || codings[last] != "chunked" {
		// Only a final chunked tells where the body ends (RFC 9112 §6.3 rule 4).
		return badFraming("chunked must be the final transfer coding")
	}
	if slices.Contains(codings[:last], "chunked") {
		return badFraming("chunked must not be applied more than once")
	}
	if last > 0 {
		return &statusError{Code: 501, Text: fmt.Sprintf("transfer coding %q is not implemented", codings[0])}
	}
	return nil
}

// Read implements io.Reader: body bytes, then io.EOF at the exact end.
// A framing or connection error is returned by this and every later Read.
func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.interim != nil {
		// RFC 9110 §10.1.1: the client waits for this before sending the body.
		// Sending it on the first Read means an app that never reads the body
		// never makes the client upload it.
		b.err = writeContinue(b.interim)
		b.interim = nil
		if b.err != nil {
			return 0, b.err
		}
	}
	var n int
	var err error
	if b.chunked {
		n, err = b.readChunked(p)
	} else {
		n, err = b.readFixed(p)
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func writeContinue(w io.Writer) error {
	_, err := io.WriteString(w, "HTTP/1.1 100 Continue\r\n\r\n")
	if f, ok := w.(interface{ Flush() error }); ok && err == nil {
		err = f.Flush() // a buffered writer would keep the client waiting
	}
	return err
}

// readFixed reads a Content-Length body and never past its end: the bytes
// after it belong to the next request on the connection.
func (b *body) readFixed(p []byte) (int, error) {
	if b.remaining == 0 {
		return 0, io.EOF
	}
	n, err := b.br.Read(p[:min(int64(len(p)), b.remaining)])
	b.remaining -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF // the client went away mid-body
	}
	return n, err
}

// readChunked de-chunks strictly (RFC 9112 §7.1):
//
//	chunk-size [ ";" extensions ] CRLF   data   CRLF   ...   "0" CRLF trailers CRLF
func (b *body) readChunked(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.remaining == 0 {
		size, err := b.readChunkSize()
		if err != nil {
			return 0, err
		}
		if size == 0 {
			if err := b.readTrailers(); err != nil {
				return 0, err
			}
			b.done = true
			return 0, io.EOF
		}
		if b.total+size > maxBodyBytes {
			return 0, bodyTooLarge()
		}
		b.remaining = size
	}
	n, err := b.readFixed(p)
	b.total += int64(n)
	if err == nil && b.remaining == 0 {
		err = b.readCRLF()
	}
	return n, err
}

func (b *body) readChunkSize() (int64, error) {
	line, err := readChunkLine(b.br, maxChunkLineBytes, badFraming("chunk size line is too long"))
	if err != nil {
		return 0, err
	}
	// The body limit counts only data. Without a budget of their own, the
	// size lines could go on for ever: a 1-byte chunk with 4 KiB of
	// extension, again and again (RFC 9112 §7.1.1 lets a server limit them).
	b.lineBytes += len(line) + 2
	if b.lineBytes > maxChunkLinesSum {
		return 0, badFraming(fmt.Sprintf("chunk size lines are larger than %d bytes in total", maxChunkLinesSum))
	}
	// Extensions carry nothing we use: drop them (readChunkLine bounded their size).
	size, _, hasExt := strings.Cut(line, ";")
	if hasExt {
		size = strings.TrimRight(size, " \t") // BWS before ";" (RFC 9112 §7.1.1)
	}
	if size == "" || strings.Trim(size, "0123456789abcdefABCDEF") != "" {
		return 0, badFraming("chunk size must be hex digits")
	}
	if len(size) > maxChunkSizeHex {
		return 0, badFraming("chunk size has too many digits")
	}
	return strconv.ParseInt(size, 16, 64) // cannot fail: at most 8 hex digits
}

func (b *body) readCRLF() error {
	var crlf [2]byte
	if _, err := io.ReadFull(b.br, crlf[:]); err == io.EOF {
		return io.ErrUnexpectedEOF
	} else if err != nil {
		return err
	}
	if crlf != [2]byte{'\r', '\n'} {
		return badFraming("chunk data must be followed by CRLF")
	}
	return nil
}

// readTrailers reads the trailer section after the last chunk: field lines
// up to an empty line. They go to b.Trailers and never into the request head,
// so a trailer cannot sneak in a header the server already acted on.
func (b *body) readTrailers() error {
	budget := maxTrailerBytes
	for {
		line, err := readChunkLine(b.br, budget, &statusError{Code: 431, Text: "trailer section is too large"})
		if err != nil {
			return err
		}
		if line == "" {
			return nil
		}
		budget -= len(line) + 2
		if len(b.Trailers) == maxTrailerFields {
			return &statusError{Code: 431, Text: "too many trailer fields"}
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isTrailerName(name) {
			return badFraming("malformed trailer field line")
		}
		b.Trailers = append(b.Trailers, Field{Name: name, Value: strings.Trim(value, " \t")})
	}
}

// readChunkLine reads one CRLF-terminated line of at most limit bytes (CRLF
// included, else tooLong) and returns it without the CRLF. Control characters
// other than HTAB are refused: a stray CR or NUL is a classic smuggling trick.
func readChunkLine(br *bufio.Reader, limit int, tooLong *statusError) (string, error) {
	var line []byte
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return "", io.ErrUnexpectedEOF
		} else if err != nil {
			return "", err
		}
		if len(line)+1 > limit {
			return "", tooLong
		}
		if c == '\n' {
			break
		}
		line = append(line, c)
	}
	text, ok := strings.CutSuffix(string(line), "\r")
	if !ok {
		return "", badFraming("line in chunked body must end with CRLF")
	}
	if strings.ContainsFunc(text, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
		return "", badFraming("control character in chunked body line")
	}
	return text, nil
}

// isTrailerName reports whether s is an RFC 9110 §5.6.2 token (a valid field name).
func isTrailerName(s string) bool {
	const special = "!#$%&'*+-.^_`|~"
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(special, c) >= 0) {
			return false
		}
	}
	return s != ""
}

// Err returns the error that stopped the body (a *statusError for bad
// framing, or an I/O error), or nil.
func (b *body) Err() error { return b.err }

// drain reads and discards what the app left unread, so the next request on
// a kept-alive connection starts at the right byte. It is bounded: the
// framing rules cap every body at maxBodyBytes. A client still waiting for
// 100 Continue gets errContinueNotSent instead: the server must close.
func (b *body) drain() error {
	if b.interim != nil {
		return errContinueNotSent
	}
	_, err := io.Copy(io.Discard, b)
	return err
}
