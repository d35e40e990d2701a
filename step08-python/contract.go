package main

import "iter"

// The WSGI contract of PEP 3333, written in Go. Every step of the course
// uses these names and shapes; a step defines only the parts it needs.

// Environ is the request as the application sees it: CGI-style keys
// (REQUEST_METHOD, PATH_INFO, …) whose values are strings, plus wsgi.* keys.
type Environ map[string]any

// Header is one (name, value) response header tuple.
type Header struct{ Name, Value string }

// Write is the legacy write() callable that start_response returns.
type Write func(data []byte) error

// StartResponse is start_response(status, headers, exc_info): the app calls
// it once to set the status line ("200 OK") and the headers.
type StartResponse func(status string, headers []Header, excInfo error) Write

// App is a WSGI application: it gets the environ and start_response, and
// returns the body as a sequence of byte chunks.
type App func(environ Environ, startResponse StartResponse) iter.Seq[[]byte]
