package main

// The routes a shipped server adds to the demo's: /healthz for the
// container platform, and /slow to watch a graceful shutdown.

import (
	"iter"
	"time"
)

// addShippingRoutes adds GET /healthz and GET /slow to app. shuttingDown
// tells /healthz that the server is draining (Server.ShuttingDown).
func addShippingRoutes(app *Router, shuttingDown func() bool) *Router {
	app.Route("GET /healthz", healthz(shuttingDown))
	app.Route("GET /slow", slow)
	return app
}

// healthz says whether this server wants new requests. It checks nothing
// else on purpose: a health check that fails when a database is down
// makes the platform restart every replica at once, which cures nothing.
// While shutting down it answers 503, so a load balancer that still
// polls it stops sending clients here. No cache may keep either answer.
func healthz(shuttingDown func() bool) App {
	healthy := PlainTextResponse("ok\n").WithHeader("Cache-Control", "no-store")
	draining := PlainTextResponse("shutting down\n").WithStatus(503).WithHeader("Cache-Control", "no-store")
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		if shuttingDown() {
			return draining(environ, startResponse)
		}
		return healthy(environ, startResponse)
	}
}

// slowFor is how long /slow takes: long enough to send SIGTERM while it
// runs, well inside the shutdown deadline.
const slowFor = time.Second

// slow sends its first line at once (write() sends the headers with it),
// waits, then sends the second: a request visibly in flight. Send SIGTERM
// (or docker stop) in between and the second line still arrives.
func slow(_ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	write := startResponse("200 OK", []Header{textPlainUTF8}, nil)
	if err := write([]byte("started\n")); err != nil {
		return func(func([]byte) bool) {} // the client is gone
	}
	return func(yield func([]byte) bool) {
		time.Sleep(slowFor)
		yield([]byte("finished " + slowFor.String() + " later\n"))
	}
}
