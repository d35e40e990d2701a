package main

// response.go is the response side of the server: start_response, write(),
// lazy headers, how the body is framed (Content-Length, chunked, or the
// close), HEAD, and what a panic turns into. It writes to a *bufio.Writer and
// knows nothing about sockets, so its tests can compare exact bytes.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serverSoftware goes out in the Server header (RFC 9110 §10.2.4).
const serverSoftware = "step08-python"

// errorBody is wsgiref's answer to an app that fails before its headers
// went out, byte for byte (two spaces after the full stop; 59 bytes).
const errorBody = "A server error occurred.  Please contact the administrator."

// imfFixdate is the one Date format a server may send (RFC 9110 §5.6.7).
const imfFixdate = "Mon, 02 Jan 2006 15:04:05 GMT"

// framing is how the client finds the end of the body (RFC 9112 §6.3).
type framing int

const (
	noBody   framing = iota // 1xx, 204, 304: these never have a body
	byLength                // Content-Length: N
	byChunks                // Transfer-Encoding: chunked; HTTP/1.1 clients only
	byClose                 // neither: the body ends when the server closes
)

// phase is how far a response has got. It only moves down this list, with
// one exception: until a body byte is held or sent, a start_response call
// with excInfo replaces the status and headers, so it goes back to refused
// while it checks them.
type phase int

const (
	waiting    phase = iota // start_response has not been called
	refused                 // it was called, but its status or headers failed the checks
	ready                   // status and headers passed the checks; nothing has gone out
	holding                 // the first chunk is held back (see sendBody); nothing has gone out
	sending                 // the status line and headers are out; body bytes follow
	noMoreBody              // the headers are out and no more body is wanted (see stopped)
	finished                // serve has returned: write() must not touch w any more
)

// response is one response in the making; the server makes one per request.
type response struct {
	w      *bufio.Writer
	req    *Request         // the head: its Accept shapes the answer if the body breaks
	input  *body            // wsgi.input: if it broke, its error is the answer
	errors io.Writer        // wsgi.errors: where problems are logged
	now    func() time.Time // the clock for the Date header
	proto  string           // the request's version, "HTTP/1.1" or "HTTP/1.0"
	isHead bool             // HEAD: the headers GET would get, no body bytes

	phase      phase    // how far the response has got
	status     string   // "200 OK", as the app gave it
	headers    []Header // as the app gave them, in its order
	length     int64    // Content-Length (the app's or computed); -1 while unknown
	held       []byte   // in phase holding: the first chunk, held back while looking one chunk ahead
	framing    framing  // decided when the headers go out
	sent       int64    // body bytes accepted so far (HEAD: not written)
	closeAfter bool     // the connection closes after this response
	err        error    // the first write error: the client is gone

	closing func() bool // step07: the server is shutting down (shutdown.go); nil: never
	dates   *dateCache  // the Date value, made once a second
}

// dateCache holds the Date header's value for one second. Date counts whole
// seconds, so every response in the same second gets the same 29 bytes:
// they are formatted once, when the second changes, and copied after
// that. Each connection has its own (perConn), so it needs no lock.
type dateCache struct {
	second int64  // the Unix time text was made for
	text   []byte // that second, as imfFixdate
}

// appendDate appends now's Date value to dst.
func (d *dateCache) appendDate(dst []byte, now time.Time) []byte {
	if d.text == nil || now.Unix() != d.second {
		d.second, d.text = now.Unix(), now.UTC().AppendFormat(d.text[:0], imfFixdate)
	}
	return append(dst, d.text...)
}

// newResponse prepares the response to req, written to w. input is the
// request's body; problems go to errors (its wsgi.errors); now stamps Date.
func newResponse(w *bufio.Writer, req *Request, input *body, errors io.Writer, now func() time.Time) *response {
	r := new(response)
	r.prepare(w, req, input, errors, now)
	r.dates = new(dateCache)
	return r
}

// prepare is newResponse in a response that is already there: the
// server's lives in the request's perRequest (server.go).
func (r *response) prepare(w *bufio.Writer, req *Request, input *body, errors io.Writer, now func() time.Time) {
	*r = response{
		w: w, req: req, input: input, errors: errors, now: now, proto: req.Proto,
		isHead: req.Method == "HEAD",
		length: -1,
		// This server keeps only HTTP/1.1 connections alive, and a client
		// that says "Connection: close" will send nothing more (RFC 9112 §9.6).
		closeAfter: req.Proto != "HTTP/1.1" || asksToClose(req),
	}
}

// asksToClose reports whether the request's Connection header lists close.
func asksToClose(req *Request) bool {
	for _, f := range req.Fields {
		if strings.EqualFold(f.Name, "Connection") &&
			slices.ContainsFunc(splitCommaList(f.Value), func(option string) bool {
				return strings.EqualFold(option, "close")
			}) {
			return true
		}
	}
	return false
}

// serve calls app, sends its response and says whether the connection can
// carry another request. No panic escapes: PEP 3333 asks the server to trap
// and log the app's errors.
func (r *response) serve(app App, environ Environ) (keepAlive bool) {
	defer func() {
		if p := recover(); p != nil {
			r.fail(p)
		}
		r.phase = finished
		keepAlive = !r.closeAfter && r.err == nil
	}()
	body := app(environ, r.startResponse)
	if body == nil {
		panic(errors.New("the application returned a nil body; return an empty iter.Seq instead"))
	}
	r.sendBody(body)
	r.finish()
	return keepAlive
}

// startResponse is the start_response callable the app gets.
func (r *response) startResponse(status string, headers []Header, excInfo error) Write {
	// A chunk held back by the look-ahead counts as sent: looking ahead must
	// not change what the app sees.
	if excInfo != nil && r.phase >= holding {
		// PEP 3333: the app can no longer change the response, so its error
		// goes on up; the server then cuts the connection.
		panic(excInfo)
	}
	if excInfo == nil && r.phase != waiting {
		panic(errors.New("start_response: headers already set; only a call with excInfo may replace them (PEP 3333)"))
	}
	// Store first, check second (PEP 3333): once a check has failed, the
	// phase stays refused and the app can only call again with excInfo.
	r.phase = refused
	// A copy (the app's slice is the app's), into the room the connection
	// keeps for it (respond, server.go).
	r.status, r.headers, r.length = status, append(r.headers[:0], headers...), -1
	mustBeValidStatus(status)
	for _, h := range headers {
		mustBeValidHeader(h)
	}
	r.length = mustParseContentLength(headers)
	r.phase = ready
	return r.write
}

func panicf(format string, args ...any) { panic(fmt.Errorf(format, args...)) }

// mustBeValidStatus enforces PEP 3333's "200 OK": three digits, one space,
// a reason phrase, and nothing that could end the status line early.
func mustBeValidStatus(status string) {
	code, reason, _ := strings.Cut(status, " ")
	switch {
	case len(code) != 3 || strings.Trim(code, "0123456789") != "" || len(status) < 4:
		panicf("start_response: status %q must be three digits, one space and a reason, like \"200 OK\" (PEP 3333)", status)
	case code < "100" || code > "599":
		panicf("start_response: status code %s is not between 100 and 599 (RFC 9110 §15)", code)
	case reason == "" || strings.Trim(reason, " \t") != reason:
		panicf("start_response: status %q needs a reason phrase with no space around it (PEP 3333)", status)
	case hasControl(status):
		panicf("start_response: status %q contains a control character (PEP 3333)", status)
	case !isLatin1(status):
		panicf("start_response: status %q is not Latin-1 (PEP 3333)", status)
	}
}

// hopByHop names the headers that describe one connection, not the
// response; they belong to the server (PEP 3333, RFC 9110 §7.6.1).
var hopByHop = []string{"connection", "keep-alive", "proxy-authenticate",
	"proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade"}

// mustBeValidHeader enforces PEP 3333's rules for one (name, value) pair.
func mustBeValidHeader(h Header) {
	switch {
	case !isToken(h.Name):
		panicf("start_response: header name %q is not a token (RFC 9110 §5.6.2)", h.Name)
	case slices.ContainsFunc(hopByHop, func(name string) bool { return strings.EqualFold(name, h.Name) }):
		panicf("start_response: hop-by-hop header %q is not allowed (PEP 3333)", h.Name)
	case hasControl(h.Value):
		// A CR or LF would end the header line early and let the value
		// inject headers of its own ("response splitting").
		panicf("start_response: header %q has a control character in its value (PEP 3333)", h.Name)
	case !isLatin1(h.Value):
		panicf("start_response: header %q value is not Latin-1 (PEP 3333)", h.Name)
	}
}

// hasControl reports a control character other than HTAB. PEP 3333 says
// "no control characters"; HTAB is let through because RFC 9110 §5.5 allows
// it inside a field value and it cannot end a line (CPython's wsgiref
// decided the same in gh-144118).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f })
}

// isLatin1 reports whether every rune is U+0000..U+00FF: PEP 3333's status
// and headers are Latin-1 strings, and each rune goes out as one byte.
func isLatin1(s string) bool {
	return !strings.ContainsFunc(s, func(c rune) bool { return c > 0xff })
}

// mustParseContentLength returns the app's Content-Length, or -1. The
// server frames the body by it, so it must be one plain number.
func mustParseContentLength(headers []Header) int64 {
	length := int64(-1)
	for _, h := range headers {
		if !strings.EqualFold(h.Name, "Content-Length") {
			continue
		}
		if length >= 0 {
			panicf("start_response: more than one Content-Length header (RFC 9110 §8.6)")
		}
		n, err := strconv.ParseInt(h.Value, 10, 64)
		if err != nil || n < 0 || strings.Trim(h.Value, "0123456789") != "" {
			panicf("start_response: Content-Length %q is not a number of bytes (RFC 9110 §8.6)", h.Value)
		}
		length = n
	}
	return length
}

// mustHaveHeaders is checked before any body byte is taken: the app must
// have called start_response, and its status and headers must have passed
// (an app that recovered from the check's panic must not get them sent).
func (r *response) mustHaveHeaders() {
	switch r.phase {
	case waiting:
		panic(errors.New("write() before start_response()")) // wsgiref's words
	case refused:
		panic(errors.New("start_response: its status and headers were refused; call it again with excInfo (PEP 3333)"))
	}
}

// write is the write() callable start_response returns: PEP 3333's legacy
// way to send body bytes before returning the body.
func (r *response) write(data []byte) error {
	if r.phase == finished {
		return errors.New("write() after the response ended")
	}
	r.mustHaveHeaders()
	if len(data) == 0 || r.stopped() {
		return r.err
	}
	r.sendHeld(-1) // keep the order, should the app write from inside its body
	r.writeBody(data)
	return r.err
}

// sendBody ranges over the app's body. Empty chunks send nothing: PEP 3333
// holds the headers back until the first non-empty chunk, so the app can
// still fail and get a clean 500.
//
// Until the headers are out, the first chunk is held back while the body is
// asked for one more. If the body ends there, it was one chunk, its length
// is known, and it goes out with a Content-Length, which needs no chunked
// framing and lets an HTTP/1.0 client keep the body's end without a close.
// The price: that first chunk waits until the app yields a second one (or
// ends). A body whose Content-Length the app set is never held back.
//
// Leaving the range loop early (break, or a panic) ends the app's iterator
// where it is, so its deferred clean-up (Python's close()) runs on every
// path: the end, a panic, a client gone.
func (r *response) sendBody(body iter.Seq[[]byte]) {
	if r.stopped() {
		return // write() sent the headers of a HEAD or a 204, or found the client gone: the body never starts
	}
	for chunk := range body {
		r.mustHaveHeaders()
		switch {
		case len(chunk) == 0:
			// Nothing to send, and no reason yet to send the headers.
		case r.phase == ready && r.length < 0 && !bodyless(r.status):
			r.phase, r.held = holding, chunk
		default:
			r.sendHeld(-1) // a second chunk: the length stays unknown
			r.writeBody(chunk)
		}
		if r.stopped() {
			break
		}
	}
	r.sendHeld(int64(len(r.held))) // still held: the body was that one chunk
}

// sendHeld sends the chunk the look-ahead holds, if any, headers first.
// length is the whole body's length if the body ended with it, else -1.
func (r *response) sendHeld(length int64) {
	if r.phase != holding {
		return
	}
	chunk := r.held
	r.held = nil
	r.sendHeaders(length) // moves the phase on to sending
	r.writeBody(chunk)
}

// stopped reports that no more of the body is wanted: the client is gone,
// or the phase is noMoreBody (no body bytes may follow the headers of a
// HEAD, 1xx, 204 or 304 response, or the app overran its Content-Length).
// sendBody then leaves its range loop.
func (r *response) stopped() bool {
	return r.err != nil || r.phase >= noMoreBody
}

// bodyless reports the statuses that never have a body (RFC 9110 §6.4.1).
func bodyless(status string) bool {
	return strings.HasPrefix(status, "1") || strings.HasPrefix(status, "204 ") || strings.HasPrefix(status, "304 ")
}

// clientStatus is the status line the client gets for this request, as
// far as is known when it is asked: the server's own answer (400, 408, 413
// ...) once the request body has broken before the headers went out, as
// sendHeaders and fail then answer that instead of the app's response;
// else the app's status ("" before it called start_response). The access
// log asks it (as environ["server.response_status"]) when the app's body
// ends, which is before the server sends the last of the response: the
// body cannot break after that, as nobody reads it any more.
func (r *response) clientStatus() string {
	if err := r.input.Err(); err != nil && r.phase < sending {
		code, _ := errorStatus(err)
		return statusLine(code)
	}
	return r.status
}

// sendHeaders writes the status line and the headers, and decides how the
// body is framed. knownLength is the body's length if it has ended, else -1.
func (r *response) sendHeaders(knownLength int64) {
	if err := r.input.Err(); err != nil {
		// The request body broke while the app read it (a bad chunk, too
		// large, cut short). That is the client's error: answer it, not
		// what the app made of half a body. fail sends the answer.
		panic(brokenInput{err})
	}
	// WriteString and Append* fill w's buffer in place: no fmt, no garbage.
	w := r.w
	w.WriteString("HTTP/1.1 ")
	writeLatin1(w, r.status)
	w.WriteString("\r\n")
	// PEP 3333: the server adds Date and Server unless the app set them.
	if !r.hasHeader("Date") {
		w.WriteString("Date: ")
		w.Write(r.dates.appendDate(w.AvailableBuffer(), r.now()))
		w.WriteString("\r\n")
	}
	if !r.hasHeader("Server") {
		w.WriteString("Server: " + serverSoftware + "\r\n")
	}
	for _, h := range r.headers {
		w.WriteString(h.Name)
		w.WriteString(": ")
		writeLatin1(w, h.Value)
		w.WriteString("\r\n")
	}
	switch {
	case bodyless(r.status):
		r.framing = noBody // and no Content-Length added: there is no body to measure
	case r.length >= 0:
		r.framing = byLength // the app's Content-Length, among its headers above
	case knownLength >= 0:
		r.framing, r.length = byLength, knownLength
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(w.AvailableBuffer(), knownLength, 10))
		w.WriteString("\r\n")
	case r.proto == "HTTP/1.1":
		r.framing = byChunks
		w.WriteString("Transfer-Encoding: chunked\r\n")
	default:
		// An HTTP/1.0 client knows no chunked framing: the close is the
		// end of the body (RFC 9112 §6.3, the last rule).
		r.framing, r.closeAfter = byClose, true
	}
	if r.closing != nil && r.closing() {
		r.closeAfter = true // step07: shutdown has begun; this is the last response here
	}
	if r.closeAfter {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("\r\n")
	r.phase = sending
	if r.isHead || r.framing == noBody {
		// The chunk that brought the headers out is still counted (and a
		// 1xx/204/304 one logged) by writeBody; nothing after it is asked for.
		r.phase = noMoreBody
	}
}

func (r *response) hasHeader(name string) bool {
	return slices.ContainsFunc(r.headers, func(h Header) bool { return strings.EqualFold(h.Name, name) })
}

// writeLatin1 writes a status or header value as the bytes it stands for:
// each rune (U+0000..U+00FF, checked by start_response) is one byte. Like
// latin1Bytes, without the copy.
func writeLatin1(w *bufio.Writer, s string) {
	for _, c := range s {
		w.WriteByte(byte(c))
	}
}

// writeBody sends one non-empty piece of the body, headers first if they
// are still waiting, and flushes it.
func (r *response) writeBody(data []byte) {
	if r.phase < sending {
		r.sendHeaders(-1)
	}
	if r.length >= 0 && r.sent+int64(len(data)) > r.length {
		// PEP 3333: never send more than Content-Length said. The client
		// would read the rest as the start of the next response.
		keep := r.length - r.sent
		r.logf("the body is longer than its Content-Length %d: %d bytes dropped, body stopped",
			r.length, int64(len(data))-keep)
		data, r.phase = data[:keep], noMoreBody
	}
	r.sent += int64(len(data))
	switch {
	case r.err != nil || r.isHead || len(data) == 0:
		return
	case r.framing == noBody:
		r.logf("a %s response has no body: %d bytes dropped", r.status[:3], len(data))
		return
	case r.framing == byChunks:
		// A chunk of size 0 would end the body: data is never empty here.
		r.w.Write(strconv.AppendInt(r.w.AvailableBuffer(), int64(len(data)), 16))
		r.w.WriteString("\r\n")
		r.w.Write(data)
		r.w.WriteString("\r\n")
	default:
		r.w.Write(data)
	}
	// PEP 3333: the server must not delay a block; it goes out now.
	r.flush()
}

// finish completes a body that ran to its end.
func (r *response) finish() {
	if r.phase == waiting {
		panic(errors.New("the application never called start_response()"))
	}
	r.mustHaveHeaders()
	if r.phase < sending {
		r.sendHeaders(0) // not one non-empty chunk: the body is empty (PEP 3333)
	}
	switch {
	case r.isHead || r.err != nil:
	case r.framing == byChunks:
		r.w.WriteString("0\r\n\r\n") // the last chunk: the body is complete (RFC 9112 §7.1)
	case r.framing == byLength && r.sent < r.length:
		// PEP 3333: the client waits for bytes that never come; only the
		// close tells it so.
		r.logf("the body ended after %d of the %d bytes its Content-Length announced; closing the connection",
			r.sent, r.length)
		r.closeAfter = true
	}
	r.flush()
}

// fail handles a panic from the app or from start_response's checks: log
// it with its stack, then answer 500 if nothing has gone out yet. Once the
// headers are out, a 500 cannot follow; the server cuts the connection and
// the client sees a short body (a chunked body without its last chunk).
func (r *response) fail(p any) {
	// The stack is still the one that panicked: a deferred recover runs
	// before the stack unwinds, and the app's body ran on our goroutine.
	value, stack := p, debug.Stack()
	r.closeAfter = true
	switch _, broken := value.(brokenInput); {
	case r.input.Err() != nil && r.phase < sending:
		// The request body broke (see sendHeaders), and perhaps the app
		// panicked because of it: the client's error is the answer.
		if !broken {
			r.logf("panic: %v\n%s", value, stack)
		}
		r.w.Write(errorResponse(r.input.Err(), r.isHead, acceptsJSON(r.req), r.now()))
	case r.phase >= holding:
		r.logf("panic after the headers were sent; closing the connection: %v\n%s", value, stack)
		r.sendHeld(-1) // the held chunk was due before the panic: as if never held
	default:
		r.logf("panic: %v\n%s", value, stack)
		// What wsgiref does: start_response again, with exc_info, and its page.
		r.status = "500 Internal Server Error"
		r.headers = []Header{{"Content-Type", "text/plain"}, {"Content-Length", strconv.Itoa(len(errorBody))}}
		r.length = int64(len(errorBody))
		r.writeBody([]byte(errorBody))
	}
	r.flush()
}

func (r *response) flush() {
	if r.err == nil {
		r.err = r.w.Flush()
	}
}

func (r *response) logf(format string, args ...any) {
	fmt.Fprintf(r.errors, format+"\n", args...)
}

// brokenInput is the panic that abandons the app's response when the
// request body turned out to be broken, before any header went out.
type brokenInput struct{ err error }
