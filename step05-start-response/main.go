// Command step05-start-response is a WSGI server on a raw TCP socket with a
// real start_response: lazy headers, write(), Content-Length or chunked
// bodies, keep-alive, HEAD, and a 500 for an app that fails. The demo app
// shows each of them on its own path.
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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "step05-start-response:", err)
		os.Exit(1)
	}
}

// run listens on -addr, prints the URL and serves until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("step05-start-response", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:8005", "`host:port` to listen on")
	oneAtATime := flags.Bool("one-at-a-time", false, "serve clients one after another, as the Python tutorials do")
	quiet := flags.Bool("quiet", false, "print no exchanges (for load tests)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%v (is another server using it? pick one with -addr)", err)
	}
	fmt.Fprintf(stdout, "step05-start-response serving on http://%s/\n", ln.Addr())
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	server := &Server{App: demo, Log: stdout, ReadTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	if *quiet {
		server.Log = nil
	}
	if *oneAtATime {
		return server.ServeOneAtATime(ln)
	}
	return server.Serve(ln)
}
