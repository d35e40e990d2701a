package main

import "iter"

// hello is the smallest WSGI application: one status, one header, one
// chunk of body. It never touches the network; the server does that.
func hello(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	startResponse("200 OK", []Header{{"Content-Type", "text/plain; charset=utf-8"}}, nil)
	return func(yield func([]byte) bool) {
		yield([]byte("Hello, world!\n"))
	}
}
