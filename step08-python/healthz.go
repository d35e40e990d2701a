package main

// /healthz, the server's own route: the container platform asks it, and
// it never reaches Python, so a probe gets its answer while every worker
// is busy with a slow request.

import "iter"

// withHealthz answers GET /healthz itself and hands every other request
// to app (the Python workers).
func withHealthz(app App, shuttingDown func() bool, readyWorkers func() int) App {
	health := healthz(shuttingDown, readyWorkers)
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		if environ["PATH_INFO"] == "/healthz" && environ["REQUEST_METHOD"] == "GET" {
			return health(environ, startResponse)
		}
		return app(environ, startResponse)
	}
}

// healthz says whether this server wants new requests. It checks nothing
// but itself on purpose: a health check that fails when a database is
// down makes the platform restart every replica at once, which cures
// nothing. step08: with no Python worker up (every one died and is being
// restarted) it answers 503 as well: the server could only answer 502s.
// No cache may keep either answer.
func healthz(shuttingDown func() bool, readyWorkers func() int) App {
	healthy := PlainTextResponse("ok\n").WithHeader("Cache-Control", "no-store")
	draining := PlainTextResponse("shutting down\n").WithStatus(503).WithHeader("Cache-Control", "no-store")
	noWorker := PlainTextResponse("no worker is ready\n").WithStatus(503).WithHeader("Cache-Control", "no-store")
	return func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		switch {
		case shuttingDown():
			return draining(environ, startResponse)
		case readyWorkers() == 0:
			return noWorker(environ, startResponse)
		}
		return healthy(environ, startResponse)
	}
}
