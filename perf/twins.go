package main

// The two Go yardsticks, served by this same binary when it is started
// with -serve: net/http (the standard library's server, the one step06
// and step07 must keep up with) and fasthttp (a server built for speed,
// with its own API instead of net/http's). Both answer every request with
// the bytes of step07's GET /, but for the Date and the id's value.

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/valyala/fasthttp"
)

var hello = []byte("Hello, World!")

// requestID is a fresh 16-hex-digit id, as step07's middleware makes.
func requestID() string { return strconv.FormatUint(rand.Uint64()|1<<63, 16) }

func serveTwin(kind, addr string) error {
	switch kind {
	case "nethttp":
		return http.ListenAndServe(addr, http.HandlerFunc(netHTTPHello))
	case "fasthttp":
		s := &fasthttp.Server{Handler: fastHTTPHello, Name: "step07-docker"}
		return s.ListenAndServe(addr)
	}
	return fmt.Errorf("-serve %q: want nethttp or fasthttp", kind)
}

func netHTTPHello(w http.ResponseWriter, r *http.Request) {
	// Setting the map entries directly skips the canonicalisation Set does.
	h := w.Header()
	h["Server"] = []string{"step07-docker"}
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["Content-Length"] = []string{"13"}
	h["X-Request-Id"] = []string{requestID()}
	w.Write(hello)
}

func fastHTTPHello(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.Set("X-Request-Id", requestID())
	ctx.Write(hello) // fasthttp counts the bytes for Content-Length
}
