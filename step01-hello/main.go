// Command step01-hello serves a WSGI "Hello, world!" app through a small
// adapter onto Go's net/http: the contract first, our own server later.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "step01-hello:", err)
		os.Exit(1)
	}
}

// run listens on -addr, prints the URL and serves until ctx ends.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("step01-hello", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:8001", "`host:port` to listen on")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%v (is another server using it? pick one with -addr)", err)
	}
	fmt.Fprintf(stdout, "step01-hello serving on http://%s/\n", ln.Addr())
	server := &http.Server{Handler: wsgiHandler(hello)}
	go func() {
		<-ctx.Done()
		server.Close()
	}()
	if err := server.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
