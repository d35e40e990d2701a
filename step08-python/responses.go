package main

// responses.go: the responses a handler returns. Each one is an App, so it
// can answer a route, be served on its own (&Server{App: PlainTextResponse("hi")}),
// or be wrapped by another App. Each body is one piece with its length in
// Content-Length, so the server sends headers and body in one write.

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"iter"
	"net/url"
	"strconv"
	"strings"
)

// PlainTextResponse answers 200 with body as UTF-8 text.
func PlainTextResponse(body string) App {
	return fixedResponse("text/plain; charset=utf-8", []byte(body))
}

// HTMLResponse answers 200 with body as an HTML page in UTF-8. The caller
// escapes what it puts in (html.EscapeString); nothing here can tell markup
// from text.
func HTMLResponse(body string) App {
	return fixedResponse("text/html; charset=utf-8", []byte(body))
}

// JSONResponse answers 200 with v encoded as JSON. JSON is always UTF-8
// (RFC 8259 §8.1), so its media type has no charset parameter. A value
// json.Marshal cannot encode (a channel, a func) is a bug in the caller:
// it panics, and Recover answers 500.
func JSONResponse(v any) App {
	body, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("JSONResponse: %w", err))
	}
	return fixedResponse("application/json", body)
}

// fixedResponse is the App behind the three above. The headers and the
// one-chunk body are made once, when the response is made, and shared by
// every request it answers: serving it allocates nothing.
func fixedResponse(contentType string, body []byte) App {
	headers := []Header{{"Content-Type", contentType}, {"Content-Length", strconv.Itoa(len(body))}}
	chunk := func(yield func([]byte) bool) { yield(body) }
	return func(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		startResponse("200 OK", headers, nil)
		return chunk
	}
}

// Redirect answers code (301, 302, 303, 307 or 308) with a Location header.
// A location that starts with one "/" is a path inside this app: it gets the
// SCRIPT_NAME in front, so a mounted app redirects within its mount.
func Redirect(code int, location string) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		target := location
		if strings.HasPrefix(location, "/") && !strings.HasPrefix(location, "//") {
			target = pathURL(string(latin1Bytes(environ["SCRIPT_NAME"].(string)))) + location
		}
		body := []byte("Redirecting to " + target + "\n")
		startResponse(statusLine(code), []Header{
			{"Location", target},
			{"Content-Type", "text/plain; charset=utf-8"},
			{"Content-Length", strconv.Itoa(len(body))},
		}, nil)
		return func(yield func([]byte) bool) { yield(body) }
	}
}

// pathURL turns a decoded path back into the escaped form a Location
// header needs: "/café here" becomes "/caf%C3%A9%20here".
func pathURL(path string) string {
	return (&url.URL{Path: path}).EscapedPath()
}

// WithStatus is app answering with code instead of its own status. It is an
// App wrapping an App: it changes the status on its way to start_response.
func (app App) WithStatus(code int) App {
	status := statusLine(code)
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		return app(environ, func(old string, headers []Header, excInfo error) Write {
			if excInfo != nil {
				return startResponse(old, headers, excInfo) // an error page keeps its own status
			}
			return startResponse(status, headers, nil)
		})
	}
}

// WithHeader is app with one more header, added on the way to start_response.
func (app App) WithHeader(name, value string) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		return app(environ, func(status string, headers []Header, excInfo error) Write {
			return startResponse(status, append(headers[:len(headers):len(headers)], Header{name, value}), excInfo)
		})
	}
}

// statusLine is PEP 3333's status string for a code: "404 Not Found".
func statusLine(code int) string {
	return strconv.Itoa(code) + " " + reasonPhrase(code)
}

// ErrorPage answers code with a short page saying message: JSON if the
// client's Accept header asks for JSON (and not HTML), else HTML.
func ErrorPage(code int, message string) App {
	return errorPage(code, message, "")
}

// errorPage is ErrorPage with a detail (Recover's panic and stack in debug
// mode) shown below the message.
func errorPage(code int, message, detail string) App {
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		var contentType string
		var body []byte
		accept, _ := environ["HTTP_ACCEPT"].(string)
		if wantsJSON(accept) {
			contentType, body = "application/json", errorJSON(code, message, detail)
		} else {
			contentType = "text/html; charset=utf-8"
			title := html.EscapeString(statusLine(code))
			page := "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + title + "</title></head>\n" +
				"<body><h1>" + title + "</h1>\n<p>" + html.EscapeString(message) + "</p>\n"
			if detail != "" {
				page += "<pre>" + html.EscapeString(detail) + "</pre>\n"
			}
			body = []byte(page + "</body></html>\n")
		}
		startResponse(statusLine(code), []Header{
			{"Content-Type", contentType},
			{"Content-Length", strconv.Itoa(len(body))},
		}, nil)
		return func(yield func([]byte) bool) { yield(body) }
	}
}

// errorJSON is the JSON body of an error page. The server's own refusals
// (errorResponse, server.go) use it too: a client that asked for JSON
// meets one shape, whoever answers.
func errorJSON(code int, message, detail string) []byte {
	page := struct {
		Status  int    `json:"status"`
		Error   string `json:"error"`
		Message string `json:"message"`
		Detail  string `json:"detail,omitempty"`
	}{code, reasonPhrase(code), message, detail}
	body, _ := json.Marshal(page) // cannot fail: ints and strings
	return append(body, '\n')
}

// wantsJSON is the whole content negotiation of every error answer, the
// framework's pages and the server's refusals alike: JSON when the Accept
// header names a JSON type and does not name text/html. A browser
// (text/html first), curl (*/*) and a missing Accept do not get JSON.
// Quality values are not weighed: this is a page about an error, not a
// resource.
func wantsJSON(accept string) bool {
	accept = strings.ToLower(accept)
	return (strings.Contains(accept, "application/json") || strings.Contains(accept, "+json")) &&
		!strings.Contains(accept, "text/html")
}

// ErrorResponse is the page for an error a handler got from Req: an
// *HTTPError answers its own code and message (400 bad JSON, 413 too
// large, 415 wrong Content-Type), and so does a broken body: badly framed
// (its *statusError), cut short (400) or too slow (408), the status the
// server answers it with itself anyway (errorStatus), with nothing logged:
// the client's error is no fault of the app's. Any other error is: 500,
// with the error on wsgi.errors and not on the page.
func ErrorResponse(err error) App {
	var httpErr *HTTPError
	var broken *statusError
	switch {
	case errors.As(err, &httpErr):
		return ErrorPage(httpErr.Code, httpErr.Message)
	case errors.As(err, &broken):
		return ErrorPage(broken.Code, broken.Text)
	}
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		if input, ok := environ["wsgi.input"].(interface{ Err() error }); ok && input.Err() != nil && errors.Is(err, input.Err()) {
			// The request body broke (cut short, or too slow): the client's
			// error, not the app's, and the server answers it itself.
			return ErrorPage(errorStatus(err))(environ, startResponse)
		}
		fmt.Fprintf(environ["wsgi.errors"].(io.Writer), "error: %v\n", err)
		return ErrorPage(500, "The application failed.")(environ, startResponse)
	}
}

// HTTPError is an error with the status it should be answered with.
type HTTPError struct {
	Code    int    // 400, 413, 415 ...
	Message string // one sentence for the client
}

func (e *HTTPError) Error() string { return statusLine(e.Code) + ": " + e.Message }
