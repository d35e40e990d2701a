package main

// request.go: Req, the request as a handler sees it. It is a view of the
// environ, nothing more: every method reads a key PEP 3333 defined (or the
// router's wsgiorg.routing_args), so an App that is not a Handler can read
// the same things from the environ itself.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/url"
	"strconv"
	"strings"
)

// defaultMaxBody is how much of a request body Req.Body reads unless the
// handler sets Req.MaxBody: enough for a JSON form, far less than the
// server's own 1 MiB limit, so a handler never holds a large body in memory.
const defaultMaxBody = 64 << 10

// Req is the request as a handler sees it. The name Request is taken:
// parse.go's Request is the head as it came off the wire.
type Req struct {
	Environ Environ
	Method  string // REQUEST_METHOD: "GET", "POST", ...
	Path    string // SCRIPT_NAME + PATH_INFO as the bytes the client sent, percent-decoded (UTF-8 if it sent UTF-8)
	MaxBody int64  // Body refuses a body longer than this (413); defaultMaxBody unless changed

	query url.Values // parsed on first use
	body  []byte     // read on first use
	err   error      // ... and what reading it gave
	read  bool
}

// Handler turns a function of the request into an App: the function picks
// the response, and the response, being an App, answers.
func Handler(handle func(req *Req) App) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		req := &Req{
			Environ: environ,
			Method:  environ["REQUEST_METHOD"].(string),
			Path:    wireString(environ["SCRIPT_NAME"].(string) + environ["PATH_INFO"].(string)),
			MaxBody: defaultMaxBody,
		}
		return handle(req)(environ, startResponse)
	}
}

// RoutingArgs is the value of the environ key wsgiorg.routing_args, the
// WSGI community's convention for what a router found in the path
// (Python's Routes and Selector use it). Our patterns name every wildcard,
// so Positional stays empty.
type RoutingArgs struct {
	Positional []string
	Named      map[string]string
}

// Param is the path parameter name: for the pattern "GET /hello/{name}"
// and the path /hello/world, Param("name") is "world". "" if there is none.
func (r *Req) Param(name string) string {
	args, _ := r.Environ["wsgiorg.routing_args"].(RoutingArgs)
	return args.Named[name]
}

// Query is the parsed query string: Query().Get("q"). A malformed pair
// ("%zz") is skipped; the others are kept.
func (r *Req) Query() url.Values {
	if r.query == nil {
		r.query, _ = url.ParseQuery(wireString(r.Environ["QUERY_STRING"].(string)))
	}
	return r.query
}

// Header is the value of the request header name ("User-Agent"), as the
// client sent its bytes, or "". Repeated lines come joined (see environ.go).
func (r *Req) Header(name string) string {
	key := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	if key != "CONTENT_TYPE" && key != "CONTENT_LENGTH" {
		key = "HTTP_" + key // PEP 3333: only these two live without the prefix
	}
	value, _ := r.Environ[key].(string)
	return wireString(value)
}

// Cookie is the value of the cookie name from the Cookie header
// (RFC 6265 §5.4: "a=1; b=2"), with surrounding double quotes removed.
func (r *Req) Cookie(name string) (string, bool) {
	for pair := range strings.SplitSeq(r.Header("Cookie"), ";") {
		key, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if key == name {
			if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			return value, true
		}
	}
	return "", false
}

// Body reads the whole request body, at most MaxBody bytes: a longer one
// is an *HTTPError 413. Any other error is wsgi.input's (a broken chunk,
// a client gone); the server answers that one itself, whatever the handler
// returns (response.go, sendHeaders).
func (r *Req) Body() ([]byte, error) {
	if r.read {
		return r.body, r.err
	}
	r.read = true
	tooLarge := &HTTPError{413, "The request body is larger than " + strconv.FormatInt(r.MaxBody, 10) + " bytes."}
	// A Content-Length over the limit is refused before a byte is read.
	if n, err := strconv.ParseInt(r.Header("Content-Length"), 10, 64); err == nil && n > r.MaxBody {
		r.err = tooLarge
		return nil, r.err
	}
	input := r.Environ["wsgi.input"].(io.Reader)
	r.body, r.err = io.ReadAll(io.LimitReader(input, r.MaxBody+1)) // one more byte tells "too large"
	if r.err == nil && int64(len(r.body)) > r.MaxBody {
		r.body, r.err = nil, tooLarge
	}
	return r.body, r.err
}

// DecodeJSON decodes the body, which must be one JSON value sent as
// application/json, into v (as json.Unmarshal would; numbers into an `any`
// stay json.Number, so they are not rounded). Its errors are *HTTPError:
// 415 for another Content-Type, 413 for a body over MaxBody, 400 with the
// decoder's own message for anything that is not JSON.
func (r *Req) DecodeJSON(v any) error {
	mediaType, _, _ := strings.Cut(r.Header("Content-Type"), ";")
	if !strings.EqualFold(strings.TrimSpace(mediaType), "application/json") {
		return &HTTPError{415, "Send the body as application/json."}
	}
	data, err := r.Body()
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return &HTTPError{400, "The body is empty; send a JSON value."}
		}
		return &HTTPError{400, "The body is not valid JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &HTTPError{400, "The body has more after its JSON value."}
	}
	return nil
}

// wireString is an environ string as the bytes the client sent, like
// latin1Bytes. Most strings are ASCII and come back as they are: no copy.
func wireString(s string) string {
	if isASCII(s) {
		return s
	}
	return string(latin1Bytes(s))
}
