package main

// The binary's own health probe. A scratch image has no shell, no curl
// and no wget, so the Dockerfile's HEALTHCHECK runs this program again,
// with -healthcheck: it sends GET /healthz to the server in the same
// container and exits 0 if the answer is 200, 1 otherwise.

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"
)

// probeTimeout bounds the whole probe; Docker's own --timeout is longer.
const probeTimeout = 2 * time.Second

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
		return fmt.Errorf("unhealthy: %v", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(probeTimeout))
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target)
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("unhealthy: no answer from %s: %v", target, err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 200 ") {
		return fmt.Errorf("unhealthy: %s answered %q", target, strings.TrimSpace(status))
	}
	return nil
}
