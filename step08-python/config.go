package main

// Configuration for a server that is shipped: a container platform says
// where to listen through the environment (Heroku, Cloud Run and many
// others set PORT; ADDR is the course's own), while a flag given on the
// command line still wins, so `go run ./step08-python -addr :9000` does
// what it says.

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
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
// given, else $ADDR (host:port), else :$PORT, else the flag's default. An
// address that cannot be what was meant is an error naming where it came
// from, so a typo in a container's environment is not blamed on -addr.
func addrFromEnv(flags *flag.FlagSet, addr string, getenv func(string) string) (string, error) {
	given := false
	flags.Visit(func(f *flag.Flag) { given = given || f.Name == "addr" })
	switch {
	case given:
		return addr, checkAddr("-addr", addr)
	case getenv("ADDR") != "":
		return getenv("ADDR"), checkAddr("ADDR", getenv("ADDR"))
	case getenv("PORT") != "":
		return ":" + getenv("PORT"), checkPort(getenv("PORT"))
	}
	return addr, nil
}

// checkAddr refuses an address net.Listen would take in a way nobody
// means: empty (a random port on every interface, which is what
// `-addr "$ADDR"` gives when ADDR is unset), or with a port that is not a
// number (a service name: ":http" is port 80, ":ssh" 22). Other mistakes
// in the form are left to listen, whose error names them. Port 0 is
// allowed: it takes any free port, and the printed URL says which.
func checkAddr(setting, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil && addr != "" {
		return nil // not host:port at all: listen's error says so
	}
	if _, err := strconv.Atoi(port); err != nil { // an empty port too
		return fmt.Errorf("invalid %s %q: it takes host:port with a numeric port, such as %s (port 0: any free one)", setting, addr, defaultAddr)
	}
	return nil
}

// checkPort refuses a $PORT that is not a port number. A platform that
// sets PORT sends its traffic there, so 0 (any free port) is refused too.
func checkPort(port string) error {
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("invalid PORT %q: it takes a port number from 1 to 65535, such as 8082", port)
	}
	return nil
}

// checkShipping refuses values the flag package takes but that cannot
// work. A timeout of 0 or less would answer every request with 408, send
// nothing, or close every kept-alive connection at once, so a timeout is
// above 0; a negative shutdown timeout or cap means nothing, while 0 has a
// meaning for each (cut at once; no cap). Each error names its flag, what
// it takes, and the flag's default as an example.
func checkShipping(flags *flag.FlagSet, cfg shipping) error {
	example := func(name string) string { return flags.Lookup(name).DefValue }
	for _, t := range []struct {
		name    string
		timeout time.Duration
	}{{"header-timeout", cfg.header}, {"body-timeout", cfg.body}, {"idle-timeout", cfg.idle}, {"write-timeout", cfg.write}} {
		if t.timeout <= 0 {
			return fmt.Errorf("invalid -%s %v: it takes a duration above 0, such as %s", t.name, t.timeout, example(t.name))
		}
	}
	switch {
	case cfg.shutdownTimeout < 0:
		return fmt.Errorf("invalid -shutdown-timeout %v: it takes a duration, 0 to cut requests in flight at once, such as %s", cfg.shutdownTimeout, example("shutdown-timeout"))
	case cfg.maxConns < 0:
		return fmt.Errorf("invalid -max-conns %d: it takes a number of connections, 0 for no cap, such as %s", cfg.maxConns, example("max-conns"))
	}
	return nil
}

// poolFlags defines step08's flags: which Python app to run, and how.
func poolFlags(flags *flag.FlagSet, cfg *poolConfig) {
	flags.StringVar(&cfg.app, "app", "course_apps:step07", "the WSGI app, as `module:callable` (gunicorn's form): wsgiref.simple_server:demo_app, hello:app, mysite.wsgi:application")
	flags.StringVar(&cfg.dir, "dir", "", "a `folder` to put first on the app's sys.path (a Flask app's folder, a Django project)")
	flags.StringVar(&cfg.python, "python", "python3", "the Python `interpreter` that runs the workers; it must import the app")
	flags.IntVar(&cfg.workers, "workers", runtime.NumCPU(), "how many Python worker processes; each serves one request at a time")
	flags.IntVar(&cfg.queue, "queue", 64, "how many requests may wait for a free worker; the next ones get a 503")
	flags.DurationVar(&cfg.timeout, "worker-timeout", 30*time.Second, "how long one request may keep a worker; past it the worker is killed and the client gets a 504")
}

// checkPool refuses pool settings that cannot work, naming the flag.
func checkPool(flags *flag.FlagSet, cfg poolConfig) error {
	example := func(name string) string { return flags.Lookup(name).DefValue }
	module, callable, found := strings.Cut(cfg.app, ":")
	switch {
	case !found || module == "" || callable == "":
		return fmt.Errorf("invalid -app %q: it takes module:callable, such as %s", cfg.app, example("app"))
	case cfg.python == "":
		return fmt.Errorf("invalid -python \"\": it takes an interpreter, such as %s", example("python"))
	case cfg.workers < 1:
		return fmt.Errorf("invalid -workers %d: it takes a number of processes from 1, such as %s", cfg.workers, example("workers"))
	case cfg.queue < 0:
		return fmt.Errorf("invalid -queue %d: it takes a number of requests, 0 for none, such as %s", cfg.queue, example("queue"))
	case cfg.timeout <= 0:
		return fmt.Errorf("invalid -worker-timeout %v: it takes a duration above 0, such as %s", cfg.timeout, example("worker-timeout"))
	}
	if cfg.dir != "" {
		if info, err := os.Stat(cfg.dir); err != nil || !info.IsDir() {
			return fmt.Errorf("invalid -dir %q: it takes a folder that exists", cfg.dir)
		}
	}
	return nil
}
