// Command step07-docker is a small web framework on the WSGI contract:
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
	"time"
)

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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "step07-docker:", err)
		os.Exit(1)
	}
}

// run listens on -addr, prints the URL and serves until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("step07-docker", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:8081", "`host:port` to listen on")
	quiet := flags.Bool("quiet", false, "no access log (for load tests)")
	debug := flags.Bool("debug", false, "show a panic and its stack on the 500 page (never on the internet)")
	oneAtATime := flags.Bool("one-at-a-time", false, "serve clients one after another, as the Python tutorials do")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%v (is another server using it? pick one with -addr)", err)
	}
	fmt.Fprintf(stdout, "step07-docker serving on http://%s/\n", ln.Addr())
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	accessLog := stdout
	if *quiet {
		accessLog = nil
	}
	app := withMiddleware(routes().App, accessLog, *debug, randomID)
	server := &Server{App: app, ReadTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	if *oneAtATime {
		return server.ServeOneAtATime(ln)
	}
	return server.Serve(ln)
}
