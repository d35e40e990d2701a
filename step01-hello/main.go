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
	"strconv"
	"syscall"
)

const defaultAddr = "127.0.0.1:8001"

// settings are what the command line can change.
type settings struct {
	addr string
}

// errUsage means the command line was wrong and parseArgs has already
// said how, so main only exits.
var errUsage = errors.New("bad command line")

// parseArgs reads the flags. The flag package writes its complaint and the
// usage to errOut; a stray argument gets the same, instead of being
// silently ignored.
func parseArgs(args []string, errOut io.Writer) (settings, error) {
	var s settings
	flags := flag.NewFlagSet("step01-hello", flag.ContinueOnError)
	flags.SetOutput(errOut)
	flags.StringVar(&s.addr, "addr", defaultAddr, "`host:port` to listen on")
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
// address (-addr 0.0.0.0:8001 or :8001) listens on every interface and
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
		fmt.Fprintln(os.Stderr, "step01-hello:", err)
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
	fmt.Fprintf(stdout, "step01-hello serving on %s\n", browsable(ln.Addr()))
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
