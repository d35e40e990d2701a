package main

import (
	"fmt"
	"html"
	"io"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The demo's own routes, the framework's lesson: each handler gets a *Req
// and returns a response, and a response is an App. main.go puts them
// together with step 05's demo apps below.

// hello greets the {name} of its path: GET /hello/world. The name is the
// client's text, so it is escaped before it goes into HTML.
func hello(req *Req) App {
	return HTMLResponse("<h1>Hello, " + html.EscapeString(req.Param("name")) + "!</h1>")
}

// echo answers the JSON value it was sent, re-encoded: POST /echo with
// {"a": [1, 2]} answers {"a":[1,2]}. A body that is not JSON (400), not
// labelled application/json (415) or too large (413) gets an error page.
func echo(req *Req) App {
	var value any
	if err := req.DecodeJSON(&value); err != nil {
		return ErrorResponse(err)
	}
	return JSONResponse(value)
}

// Step 05's demo apps, unchanged: plain WSGI apps, which the router serves
// like any other App. Their paths and transcripts are step 05's.

var textPlainUTF8 = Header{"Content-Type", "text/plain; charset=utf-8"}

// stream yields its body in several chunks, and the server cannot know the
// length in advance: HTTP/1.1 gets chunked framing, HTTP/1.0 the close.
func stream(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	startResponse("200 OK", []Header{textPlainUTF8}, nil)
	return func(yield func([]byte) bool) {
		for _, line := range []string{"one\n", "two\n", "three\n"} {
			if !yield([]byte(line)) {
				return // the client is gone (or it was a HEAD): stop early
			}
		}
	}
}

// writeThenYield uses the legacy write() callable, then returns the rest
// of its body. Headers go out on the first write(), before any length is known.
func writeThenYield(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	write := startResponse("200 OK", []Header{textPlainUTF8}, nil)
	if err := write([]byte("written with write()\n")); err != nil {
		return func(func([]byte) bool) {} // the client is gone: nothing more to say
	}
	return func(yield func([]byte) bool) {
		yield([]byte("then yielded from the body\n"))
	}
}

// sized says its length itself: the server keeps the app's Content-Length
// and sends the chunks as they come, with no chunked framing.
func sized(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	parts := []string{"three chunks, ", "one Content-Length ", "from the app\n"}
	length := 0
	for _, p := range parts {
		length += len(p)
	}
	startResponse("200 OK", []Header{textPlainUTF8, {"Content-Length", strconv.Itoa(length)}}, nil)
	return func(yield func([]byte) bool) {
		for _, p := range parts {
			if !yield([]byte(p)) {
				return
			}
		}
	}
}

// failBeforeHeaders fails after start_response but before its first
// chunk: nothing has gone out, so the server can still answer 500.
func failBeforeHeaders(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	startResponse("200 OK", []Header{textPlainUTF8}, nil)
	return func(yield func([]byte) bool) {
		panic("the demo app failed before its first chunk")
	}
}

// failAfterHeaders fails after its first chunk: the 200 and that chunk
// have gone out, so the server can only cut the connection. The chunked
// body then lacks its last chunk, and the client can tell it is short.
func failAfterHeaders(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	startResponse("200 OK", []Header{textPlainUTF8}, nil)
	return func(yield func([]byte) bool) {
		if yield([]byte("the first chunk went out, then the app failed\n")) {
			panic("the demo app failed after its first chunk")
		}
	}
}

// echoEnviron is mounted at /environ. Like wsgiref's demo_app it answers with
// every environ key, sorted, one per line, so you can see exactly what an
// application receives; then it reads the whole body from wsgi.input and
// says how long it was.
func echoEnviron(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	body, err := io.ReadAll(environ["wsgi.input"].(io.Reader))
	var out strings.Builder
	for _, key := range slices.Sorted(maps.Keys(environ)) {
		fmt.Fprintf(&out, "%s = %s\n", key, show(environ[key]))
	}
	fmt.Fprintf(&out, "body: %d bytes read from wsgi.input\n", len(body))
	if err != nil {
		fmt.Fprintf(&out, "reading it failed: %v\n", err)
	}
	startResponse("200 OK", []Header{textPlainUTF8}, nil)
	return func(yield func([]byte) bool) {
		yield([]byte(out.String()))
	}
}

// show writes one environ value the way Go source would. A string is
// quoted with every rune past ASCII as \u00XX, so the Latin-1 runes of a
// CGI value stay visible: /caf%C3%A9 gives PATH_INFO "/caf\u00c3\u00a9",
// two runes for the two bytes of a UTF-8 é. A stream or a function shows
// its Go type.
func show(value any) string {
	switch v := value.(type) {
	case string:
		return strconv.QuoteToASCII(v)
	case io.Reader, io.Writer, func() string:
		return fmt.Sprintf("%T", v)
	default:
		return fmt.Sprint(v)
	}
}

// routes is step 07's Go demo app. In step 08 the server runs Python apps,
// so the Go demo lives on only here, in the tests: the server's own tests
// (parsing, framing, limits, shutdown) still exercise the server through
// it, with no Python process in the way.
func routes() *Router {
	app := NewRouter()
	app.Route("GET /", PlainTextResponse("Hello, World!"))
	app.Route("GET /html", HTMLResponse("<h1>Hello, World!</h1>"))
	app.Route("GET /json", JSONResponse(map[string]string{"message": "Hello, World!"}))
	app.Route("GET /hello/{name}", Handler(hello))
	app.Route("POST /echo", Handler(echo))
	app.Route("/stream", stream)
	app.Route("/write", writeThenYield)
	app.Route("/sized", sized)
	app.Route("/error-before", failBeforeHeaders)
	app.Route("/error-after", failAfterHeaders)
	app.Mount("/environ", echoEnviron)
	return app
}

// addShippingRoutes adds step 07's GET /healthz and GET /slow to app.
func addShippingRoutes(app *Router, shuttingDown func() bool) *Router {
	app.Route("GET /healthz", healthz(shuttingDown, func() int { return 1 }))
	app.Route("GET /slow", slow)
	return app
}

// slowFor is how long /slow takes.
const slowFor = time.Second

// slow sends its first line at once, waits, then sends the second: a
// request visibly in flight.
func slow(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	write := startResponse("200 OK", []Header{textPlainUTF8}, nil)
	if err := write([]byte("started\n")); err != nil {
		return func(func([]byte) bool) {}
	}
	return func(yield func([]byte) bool) {
		time.Sleep(slowFor)
		yield([]byte("finished " + slowFor.String() + " later\n"))
	}
}
