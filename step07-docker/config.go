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
}

// shippingFlags defines step07's flags on flags, to be parsed into cfg.
func shippingFlags(flags *flag.FlagSet, cfg *shipping) {
	flags.IntVar(&cfg.maxConns, "max-conns", 256, "serve at most `n` connections at once; 0: no cap")
	flags.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 5*time.Second,
		"on SIGTERM, how long requests in flight may take to finish (docker stop waits 10s)")
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
