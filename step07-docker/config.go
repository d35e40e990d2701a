package main

// Configuration for a server that is shipped: a container platform says
// where to listen through the environment (Heroku, Cloud Run and many
// others set PORT; ADDR is the course's own), while a flag given on the
// command line still wins, so `go run ./step07-docker -addr :9000` does
// what it says.

import (
	"flag"
	"time"
)

// shipping holds the settings step07 adds to the flags of the steps before.
type shipping struct {
	maxConns        int           // connections served at once; the next ones get a 503
	shutdownTimeout time.Duration // how long requests in flight may take after SIGTERM
	healthcheck     bool          // probe /healthz of a running server and exit 0 or 1
	timeouts                      // how long a client may take over each part of its exchange
}

// timeouts are the Server's four deadlines. Each one stops a client that
// stalls from holding a connection (and its goroutine and buffers) for ever.
type timeouts struct {
	header time.Duration // the request line and fields, from their first byte
	body   time.Duration // the whole body, from the end of the head
	idle   time.Duration // a kept-alive connection's wait for its next request
	write  time.Duration // each write to a client that does not read
}

// shippingFlags defines step07's flags on flags, to be parsed into cfg.
func shippingFlags(flags *flag.FlagSet, cfg *shipping) {
	flags.IntVar(&cfg.maxConns, "max-conns", 256, "serve at most `n` connections at once; 0: no cap")
	flags.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 5*time.Second,
		"on SIGTERM, how long requests in flight may take to finish (docker stop waits 10s)")
	flags.DurationVar(&cfg.header, "header-timeout", 10*time.Second, "how long a client may take to send a request's head, from its first byte")
	flags.DurationVar(&cfg.body, "body-timeout", 30*time.Second, "how long a client may take to send a whole request body, once the head is in")
	flags.DurationVar(&cfg.idle, "idle-timeout", 30*time.Second, "how long a kept-alive connection may wait for its next request")
	flags.DurationVar(&cfg.write, "write-timeout", 30*time.Second, "how long one write may wait for a client that does not read")
	flags.BoolVar(&cfg.healthcheck, "healthcheck", false, "ask the server at the address for /healthz and exit 0 if it is healthy, 1 if not")
}

// addrFromEnv picks the address to listen on: the -addr flag if it was
// given, else $ADDR (host:port), else :$PORT, else the flag's default.
func addrFromEnv(flags *flag.FlagSet, addr string, getenv func(string) string) string {
	given := false
	flags.Visit(func(f *flag.Flag) { given = given || f.Name == "addr" })
	switch {
	case given:
		return addr
	case getenv("ADDR") != "":
		return getenv("ADDR")
	case getenv("PORT") != "":
		return ":" + getenv("PORT")
	}
	return addr
}
