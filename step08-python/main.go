// Command step08-python is step 07's server in front of Python: it runs a
// real WSGI app (module:callable, as gunicorn takes it: wsgiref's
// demo_app, a Flask app, a Django project) in a pool of Python worker
// processes (workers.go), and talks to them in frames over pipes
// (frame.go, worker.py). Everything the client sees of step 07 stays:
// keep-alive, limits, the cap, /healthz, graceful shutdown.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// defaultAddr is every interface, as step 07's; 8082, so that both can run.
const defaultAddr = ":8082"

// withMiddleware wraps the demo's routes: a request passes the access log
// (unless accessLog is nil), gets its id, and any panic below becomes a 500 page.
func withMiddleware(app App, accessLog io.Writer, debug bool, newID func() string) App {
	app = Use(app, RequestID(newID), Recover(debug))
	if accessLog != nil {
		app = AccessLog(accessLog)(app)
	}
	return app
}

// settings are what the command line (and, for the address, the
// environment) can change.
type settings struct {
	addr       string
	quiet      bool
	debug      bool
	oneAtATime bool
	shipping   // -max-conns, -shutdown-timeout, the timeouts, -healthcheck (config.go)
	poolConfig // step08: -app, -dir, -python, -workers, -queue, -worker-timeout (workers.go)
}

// errUsage means the command line was wrong and parseArgs has already
// said how, so main only exits.
var errUsage = errors.New("bad command line")

// parseArgs reads the flags, then $ADDR or $PORT unless -addr was given.
// The flag package writes its complaint and the usage to errOut; a stray
// argument gets the same, instead of being silently ignored.
func parseArgs(args []string, errOut io.Writer, getenv func(string) string) (settings, error) {
	var s settings
	flags := flag.NewFlagSet("step08-python", flag.ContinueOnError)
	flags.SetOutput(errOut)
	flags.StringVar(&s.addr, "addr", defaultAddr, "`host:port` to listen on; without it, $ADDR, else :$PORT")
	flags.BoolVar(&s.quiet, "quiet", false, "no access log (for load tests)")
	flags.BoolVar(&s.debug, "debug", false, "show a panic and its stack on the 500 page (never on the internet)")
	flags.BoolVar(&s.oneAtATime, "one-at-a-time", false, "serve clients one after another, as the Python tutorials do")
	shippingFlags(flags, &s.shipping)
	poolFlags(flags, &s.poolConfig) // step08 (config.go)
	err := flags.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return s, err
	case err != nil:
		return s, errUsage
	case flags.NArg() > 0:
		fmt.Fprintf(errOut, "unexpected argument %q: every setting is a flag, such as -addr %s\n", flags.Arg(0), defaultAddr)
		flags.Usage()
		return s, errUsage
	}
	// Settings the flag package takes but that cannot work get one line
	// naming the flag or variable and what it takes (config.go).
	s.addr, err = addrFromEnv(flags, s.addr, getenv)
	if err == nil {
		err = checkShipping(flags, s.shipping)
	}
	if err == nil {
		err = checkPool(flags, s.poolConfig) // step08
	}
	if err != nil {
		fmt.Fprintln(errOut, err)
		return s, errUsage
	}
	return s, nil
}

// listen opens the server's socket; when it cannot, the error says what
// to change.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%v (is another server using it? pick another port with -addr or PORT)", err)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("%v (ports below 1024 need root; pick another with -addr or PORT)", err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("%v (the host must be one of this machine's addresses, such as 127.0.0.1)", err)
	}
	return nil, fmt.Errorf("%v (-addr and ADDR take host:port, such as %s)", err, defaultAddr)
}

// browsable is the URL to open for a listener's address. A wildcard
// address (the default :8081, or 0.0.0.0:8081) listens on every interface
// and prints as [::], which no browser opens; 127.0.0.1 is one of them.
func browsable(addr net.Addr) string {
	tcp := addr.(*net.TCPAddr)
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("http://127.0.0.1:%d/ (listening on all interfaces)", tcp.Port)
	}
	return "http://" + tcp.String() + "/"
}

func main() {
	// SIGTERM too: it is what `docker stop` sends to PID 1, and a process
	// that ignores it is killed 10 s later (shutdown.go).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shareCPUs() // step08: the CPUs are shared with the Python workers (workers.go)
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package's convention for a bad command line
	default:
		fmt.Fprintln(os.Stderr, "step08-python:", err)
		os.Exit(1)
	}
}

// run listens on the address, prints the URL and serves until ctx ends;
// then it shuts down gracefully and returns nil. With -healthcheck it only
// probes the server at the address.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	s, err := parseArgs(args, os.Stderr, os.Getenv)
	if err != nil {
		return err
	}
	if s.healthcheck {
		return probe(serverAddr("/proc", os.Args[0], s.addr)) // the Dockerfile's HEALTHCHECK (healthcheck.go)
	}
	ln, err := listen(s.addr)
	if err != nil {
		return err
	}
	// Everything run prints goes through log, which never blocks serving or
	// shutdown (a stuck stdout drops lines instead, accesslog.go). Its last
	// lines get a second to go out.
	log := newLogWriter(stdout)
	defer log.Flush(time.Second)
	// step08: the workers first: an app that cannot be imported stops the
	// server before it says it serves.
	pool, err := startPool(s.poolConfig, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer pool.Stop(s.shutdownTimeout) // after serveUntil has drained the requests: the workers go last
	fmt.Fprintf(log, "step08-python serving on %s\n", browsable(ln.Addr()))
	fmt.Fprintf(log, "* %d %s workers running %s\n", s.workers, s.python, s.app)
	var accessLog io.Writer = log
	if s.quiet {
		accessLog = nil
	}
	server := &Server{HeaderTimeout: s.header, BodyTimeout: s.body, IdleTimeout: s.idle, WriteTimeout: s.write}
	server.BodyMemory = limitMemory(log, s.maxConns) // the container's limit, or GOMEMLIMIT (memory.go)
	// /healthz is the server's own; every other request goes to Python.
	server.App = withMiddleware(withHealthz(pool.App, server.ShuttingDown, pool.Ready), accessLog, s.debug, randomID)
	ln = limitConns(ln, s.maxConns, server.evictIdle) // at the cap, an idle connection makes room; else a 503 (limit.go)
	serve := server.Serve
	if s.oneAtATime {
		serve = server.ServeOneAtATime
	}
	return serveUntil(ctx, server, serve, ln, s.shutdownTimeout, log) // shutdown.go
}
