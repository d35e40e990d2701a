// Command step06-framework is a small web framework on the WSGI contract:
// a router, request and response objects, middleware and error pages, each
// of them an App, served by step 05's server made fast. The demo answers
// Hello, World! as text, HTML and JSON, greets /hello/{name}, echoes JSON
// posted to /echo, and keeps step 05's demo apps at their paths.
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
	"strconv"
	"syscall"
	"time"
)

const defaultAddr = "127.0.0.1:8006"

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

// settings are what the command line can change.
type settings struct {
	addr       string
	quiet      bool
	debug      bool
	oneAtATime bool
}

// errUsage means the command line was wrong and parseArgs has already
// said how, so main only exits.
var errUsage = errors.New("bad command line")

// parseArgs reads the flags. The flag package writes its complaint and the
// usage to errOut; a stray argument gets the same, instead of being
// silently ignored.
func parseArgs(args []string, errOut io.Writer) (settings, error) {
	var s settings
	flags := flag.NewFlagSet("step06-framework", flag.ContinueOnError)
	flags.SetOutput(errOut)
	flags.StringVar(&s.addr, "addr", defaultAddr, "`host:port` to listen on")
	flags.BoolVar(&s.quiet, "quiet", false, "no access log (for load tests)")
	flags.BoolVar(&s.debug, "debug", false, "show a panic and its stack on the 500 page (never on the internet)")
	flags.BoolVar(&s.oneAtATime, "one-at-a-time", false, "serve clients one after another, as the Python tutorials do")
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
	case surprisingAddr(s.addr):
		fmt.Fprintf(errOut, "invalid -addr %q: it takes host:port with a numeric port, such as %s (port 0: any free one)\n", s.addr, defaultAddr)
		return s, errUsage
	}
	return s, nil
}

// surprisingAddr reports whether net.Listen would take addr in a way
// nobody means: empty (a random port on every interface, which is what
// `-addr "$ADDR"` gives when ADDR is unset), or with a port that is not a
// number (a service name: ":http" is port 80). Other mistakes in the form
// are left to listen, whose error names them.
func surprisingAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr == ""
	}
	_, err = strconv.Atoi(port)
	return err != nil
}

// listen opens the server's socket; when it cannot, the error says what
// to change.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%v (is another server using it? pick another port with -addr)", err)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("%v (ports below 1024 need root; pick another with -addr)", err)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("%v (the host must be one of this machine's addresses, such as 127.0.0.1)", err)
	}
	return nil, fmt.Errorf("%v (-addr takes host:port, such as %s)", err, defaultAddr)
}

// browsable is the URL to open for a listener's address. A wildcard
// address (-addr 0.0.0.0:8006 or :8006) listens on every interface and
// prints as [::], which no browser opens; 127.0.0.1 is one of them.
func browsable(addr net.Addr) string {
	tcp := addr.(*net.TCPAddr)
	if tcp.IP.IsUnspecified() {
		return fmt.Sprintf("http://127.0.0.1:%d/ (listening on all interfaces)", tcp.Port)
	}
	return "http://" + tcp.String() + "/"
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2) // the flag package's convention for a bad command line
	default:
		fmt.Fprintln(os.Stderr, "step06-framework:", err)
		os.Exit(1)
	}
}

// run listens on -addr, prints the URL and serves until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	s, err := parseArgs(args, os.Stderr)
	if err != nil {
		return err
	}
	ln, err := listen(s.addr)
	if err != nil {
		return err
	}
	// Everything run prints goes through log, which never blocks a request
	// (a stuck stdout drops lines instead, accesslog.go). Its last lines
	// get a second to go out.
	log := newLogWriter(stdout)
	defer log.Flush(time.Second)
	fmt.Fprintf(log, "step06-framework serving on %s\n", browsable(ln.Addr()))
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	var accessLog io.Writer = log
	if s.quiet {
		accessLog = nil // no log, and none of its work: for load tests
	}
	app := withMiddleware(routes().App, accessLog, s.debug, randomID)
	server := &Server{App: app, ReadTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	if s.oneAtATime {
		return server.ServeOneAtATime(ln)
	}
	return server.Serve(ln)
}
