package main

// The health check of a real container at its cap. The image is built as
// TestDockerImage builds it and run as an operator would, with flags:
// `-addr :9000 -max-conns 8`, port 9000 published. Docker runs the image's
// HEALTHCHECK (`/step07 -healthcheck`, no flags) every second. Then:
//
//  1. the cap is kept full of silent connections: the health stays
//     healthy, and a new client through the published port gets its 200
//     (the longest-waiting silent connection makes room);
//  2. the cap is filled with requests in progress: the health still stays
//     healthy (the probe's reserve), and only now does a new client get
//     the 503.
//
// Before issue 13 the probe dialled :8081 (refused), and at the cap it
// got the 503; either way the container turned unhealthy.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

func TestDockerHealthAtTheCap(t *testing.T) {
	tag := courseImage(t)
	const maxConns = 8
	id := runContainer(t, "--health-interval=1s", "-p", "127.0.0.1::9000", tag,
		"-addr", ":9000", "-max-conns", fmt.Sprint(maxConns), "-header-timeout", "1h", "-body-timeout", "1h", "-quiet")
	addr := strings.Replace(strings.Split(docker(t, time.Minute, "port", id, "9000/tcp"), "\n")[0], "0.0.0.0", "127.0.0.1", 1)
	// Docker's proxy accepts on the published port before the server
	// listens; the server is up when it answers.
	patiently(t, "the server answers through "+addr, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Minute))
		io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		status, _ := bufio.NewReader(conn).ReadString('\n')
		return status == ok200
	})

	t.Run("the cap full of silent connections", func(t *testing.T) {
		// A new silent connection every 100ms, from before the first
		// check to the last: each one at the cap makes the oldest make
		// room for it, so every probe meets a full server.
		stop, stopped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(stopped)
			for {
				if conn, err := net.Dial("tcp", addr); err == nil {
					t.Cleanup(func() { conn.Close() })
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		defer func() { close(stop); <-stopped }()
		for range maxConns {
			silent := transcript.Dial(t, addr)
			defer silent.Close()
		}
		stayHealthy(t, id, time.Now())
		client := transcript.Dial(t, addr)
		if status := request(t, client, getNow); status != ok200 {
			t.Errorf("a new client through the published port got %q, want 200", status)
		}
	})

	t.Run("the cap full of requests in progress", func(t *testing.T) {
		for range maxConns {
			busy := transcript.Dial(t, addr)
			// The body is announced and never sent: the app waits for it
			// (the server says 100 Continue when it starts to read).
			io.WriteString(busy, "POST /environ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
			if _, err := io.ReadFull(busy, make([]byte, len("HTTP/1.1 100 Continue\r\n\r\n"))); err != nil {
				t.Fatalf("a request meant to stay in progress got %v, want 100 Continue", err)
			}
		}
		stayHealthy(t, id, time.Now())
		if status := request(t, transcript.Dial(t, addr), getNow); status != full {
			t.Errorf("with every slot busy, a new client through the published port got %q, want the 503", status)
		}
	})
}

// health is what docker inspect says of a container's health.
type health struct {
	Status string
	Log    []struct {
		Start    time.Time
		ExitCode int
		Output   string
	}
}

// stayHealthy polls the container's health (60 s at most) until three
// checks have started since from, and fails if any of them failed or the
// status is not healthy.
func stayHealthy(t *testing.T, id string, from time.Time) {
	t.Helper()
	var h health
	for range 240 {
		if err := json.Unmarshal([]byte(docker(t, time.Minute, "inspect", "--format", "{{json .State.Health}}", id)), &h); err != nil {
			t.Fatal(err)
		}
		since := 0
		for _, check := range h.Log {
			if !check.Start.Before(from) {
				since++
				if check.ExitCode != 0 {
					t.Fatalf("a health check failed (exit %d): %s", check.ExitCode, strings.TrimSpace(check.Output))
				}
			}
		}
		if since >= 3 {
			if h.Status != "healthy" {
				t.Fatalf("after %d passing checks the health is %q, want healthy", since, h.Status)
			}
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("in 60 s, fewer than three health checks ran; health %+v", h)
}
