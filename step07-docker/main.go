// Command step07-docker is step 06's framework and server made ready to
// ship: its address from the environment, a cap on connections, a /healthz
// route and its own health probe, and a graceful shutdown on SIGTERM, so
// that `docker run` and `docker stop` treat it well. The top-level
// Dockerfile builds it into a scratch image.
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

// defaultAddr is every interface: in a container, loopback is the
// container's own, which `docker run -p` cannot reach.
const defaultAddr = ":8081"

// routes is the demo app, the Go counterpart of the Python tutorials'
//
//	app = WSGIApplication()
//	@app.route('/')  -> PlainTextResponse(body='Hello, World!')
func routes() *Router {
	app := NewRouter()
	app.Route("GET /", PlainTextResponse("Hello, World!"))
	app.Route("GET /html", HTMLResponse("<h1>Hello, World!</h1>"))
	app.Route("GET /json", JSONResponse(map[string]string{"message": "Hello, World!"}))
	app.Route("GET /hello/{name}", Handler(hello))
	app.Route("POST /echo", Handler(echo))

	// Step 05's demo apps, at their old paths and for any method: a router
	// serves any App, and a mounted one sees SCRIPT_NAME and PATH_INFO move.
	app.Route("/stream", stream)
	app.Route("/write", writeThenYield)
	app.Route("/sized", sized)
	app.Route("/error-before", failBeforeHeaders)
	app.Route("/error-after", failAfterHeaders)
	app.Mount("/environ", echoEnviron)
	return app
}

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
}

// errUsage means the command line was wrong and parseArgs has already
// said how, so main only exits.
var errUsage = errors.New("bad command line")

// parseArgs reads the flags, then $ADDR or $PORT unless -addr was given.
// The flag package writes its complaint and the usage to errOut; a stray
// argument gets the same, instead of being silently ignored.
func parseArgs(args []string, errOut io.Writer, getenv func(string) string) (settings, error) {
	var s settings
	flags := flag.NewFlagSet("step07-docker", flag.ContinueOnError)
	flags.SetOutput(errOut)
	flags.StringVar(&s.addr, "addr", defaultAddr, "`host:port` to listen on; without it, $ADDR, else :$PORT")
	flags.BoolVar(&s.quiet, "quiet", false, "no access log (for load tests)")
	flags.BoolVar(&s.debug, "debug", false, "show a panic and its stack on the 500 page (never on the internet)")
	flags.BoolVar(&s.oneAtATime, "one-at-a-time", false, "serve clients one after another, as the Python tutorials do")
	shippingFlags(flags, &s.shipping)
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
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package's convention for a bad command line
	default:
		fmt.Fprintln(os.Stderr, "step07-docker:", err)
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
	fmt.Fprintf(log, "step07-docker serving on %s\n", browsable(ln.Addr()))
	var accessLog io.Writer = log
	if s.quiet {
		accessLog = nil
	}
	server := &Server{HeaderTimeout: s.header, BodyTimeout: s.body, IdleTimeout: s.idle, WriteTimeout: s.write}
	server.BodyMemory = limitMemory(log, s.maxConns) // the container's limit, or GOMEMLIMIT (memory.go)
	// /healthz asks the server whether it is shutting down (healthz.go).
	server.App = withMiddleware(addShippingRoutes(routes(), server.ShuttingDown).App, accessLog, s.debug, randomID)
	ln = limitConns(ln, s.maxConns, server.evictIdle) // at the cap, an idle connection makes room; else a 503 (limit.go)
	serve := server.Serve
	if s.oneAtATime {
		serve = server.ServeOneAtATime
	}
	return serveUntil(ctx, server, serve, ln, s.shutdownTimeout, log) // shutdown.go
}
