package main

// The binary's own health probe. A scratch image has no shell, no curl
// and no wget, so the Dockerfile's HEALTHCHECK runs this program again,
// with -healthcheck: it sends GET /healthz to the server in the same
// container and exits 0 if the answer is 200, 1 otherwise.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// probeTimeout bounds the whole probe; Docker's own --timeout is longer.
// A variable only so that a test can make it short.
var probeTimeout = 2 * time.Second

// serverAddr is the address the probe dials. The HEALTHCHECK runs
// `/step07 -healthcheck` with no flags of its own, while the server may
// have been started with some (`docker run … wsgi-course -addr :9000`).
// In a container the server is PID 1, so when PID 1 is this same program
// (its argv[0] is ours), its command line and environment, read from
// proc (/proc in main), say where it listens, by the same parseArgs.
// Anywhere else, or when they cannot be read, own is the probe's own
// address.
func serverAddr(proc, self, own string) string {
	cmdline, _ := os.ReadFile(filepath.Join(proc, "1", "cmdline")) // none: "", which is not self
	args := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	if args[0] != self {
		return own
	}
	getenv := os.Getenv // docker exec gives the probe the container's environment too
	if environ, err := os.ReadFile(filepath.Join(proc, "1", "environ")); err == nil {
		vars := map[string]string{}
		for _, kv := range strings.Split(string(environ), "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				vars[k] = v
			}
		}
		getenv = func(k string) string { return vars[k] }
	}
	s, err := parseArgs(args[1:], io.Discard, getenv)
	if err != nil {
		return own
	}
	return s.addr
}

// probe asks the server listening on addr (":8081" means this host) for
// /healthz. It returns nil only for a 200.
func probe(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // a server on every interface answers on loopback too
	}
	target := net.JoinHostPort(host, port)
	conn, err := net.DialTimeout("tcp", target, probeTimeout)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(probeTimeout))
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target)
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("unhealthy: no answer from %s: %w", target, err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 200 ") {
		return fmt.Errorf("unhealthy: %s answered %q", target, strings.TrimSpace(status))
	}
	return nil
}
