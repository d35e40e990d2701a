package main

// The server inside a container's memory limit, on a real Docker engine:
// the image of docker_test.go, run with --memory=300m, and 256 clients that
// each POST 1 MiB to /environ (an app that reads the whole body into
// memory) at once. Before memory.go the kernel killed the server (exit
// 137) with a handful answered; now every client must get a whole answer,
// 200 or 503, and the container must still be running.

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	containerMemory = "300m" // docker run --memory
	uploaders       = 256    // the default -max-conns: every one is served, none refused by the cap
	uploadBytes     = 1 << 20
)

func TestDockerMemoryLimit(t *testing.T) {
	tag := courseImage(t)
	id := runContainer(t, "--memory="+containerMemory, tag)
	// The container's own address on Docker's bridge, not a published
	// port: docker-proxy, which carries a published port, copies each
	// connection through its own buffers and paces the uploads, so they
	// never reach the server all at once as they do from a load balancer.
	ip := docker(t, time.Minute, "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id)
	addr := net.JoinHostPort(ip, "8081")
	waitServing(t, addr)
	// The server says what limit it found; the README shows it.
	command, want := outputOf(t, readmeBlock(t, "memory"), "docker run ")
	printed := strings.Split(docker(t, time.Minute, "logs", id), "\n")
	if !strings.Contains(command, " --memory="+containerMemory+" ") || !slices.Equal(printed[:min(len(printed), len(want))], want) {
		t.Errorf("the server printed first\n%s\nREADME.md shows %s printing\n%s", strings.Join(printed, "\n"), command, strings.Join(want, "\n"))
	}

	answers := uploadAtOnce(addr, uploaders, uploadBytes)
	peak, where := peakMemory(id) // before the container can go, and its cgroup with it
	counts, example := map[string]int{}, map[string]error{}
	for _, a := range answers {
		counts[a.got]++
		example[a.got] = cmp.Or(example[a.got], a.err)
	}
	t.Logf("%d clients posting %d bytes each to /environ in a %s container: %d got 200, %d got 503",
		uploaders, uploadBytes, containerMemory, counts["200"], counts["503"])
	for got, n := range counts {
		if got != "200" && got != "503" {
			t.Errorf("%d clients got %s (%v, for one); want every one a whole 200 or 503", n, got, example[got])
		}
	}
	if counts["200"] == 0 {
		t.Errorf("no upload was admitted; want some 200s among the 503s")
	}

	state := docker(t, time.Minute, "inspect", "--format", "{{.State.Running}} {{.State.OOMKilled}} {{.State.ExitCode}}", id)
	t.Logf("docker inspect: running, OOM-killed, exit code = %s", state)
	if state != "true false 0" {
		t.Errorf("after the uploads the container is %q (running, OOMKilled, exit code); want %q", state, "true false 0")
	}
	if peak > 0 {
		t.Logf("peak memory of the container: %d bytes (%.0f MiB), from %s", peak, float64(peak)/(1<<20), where)
	} else {
		t.Logf("peak memory of the container: unknown (no %s on this host)", where)
	}
	if status, err := getStatus(addr, "/healthz"); status != "200" {
		t.Errorf("after the uploads GET /healthz got %q, %v; want 200: the server must keep serving", status, err)
	}
}

// waitServing polls (bounded) until the published port answers /healthz.
func waitServing(t *testing.T, addr string) {
	for range 200 {
		if status, _ := getStatus(addr, "/healthz"); status == "200" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s does not answer GET /healthz with 200", addr)
}

// getStatus sends one GET and returns the status code of its answer.
func getStatus(addr, path string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return strconv.Itoa(resp.StatusCode), nil
}

// uploadAtOnce has n clients POST size bytes each to /environ, all in
// flight at once: each sends its head and all of its body but the last
// KiB, and only when every client has done so do they send the rest. So
// every app holds an almost whole body at the same moment, as it does when
// slow clients upload through a load balancer; without the hold-back the
// server finishes most uploads before the next ones arrive. It returns
// what each client got: a status code for a whole answer, else what went
// wrong (an answer). Like curl, a client reads the answer while it sends, so a 503
// that comes early is not lost.
func uploadAtOnce(addr string, n, size int) []answer {
	head := fmt.Sprintf("POST /environ HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", size)
	request := append([]byte(head), bytes.Repeat([]byte("x"), size)...)
	held := len(request) - 1024
	got := make([]answer, n)
	var sent, answered sync.WaitGroup
	sent.Add(n)
	allSent := make(chan struct{})
	for i := range n {
		answered.Go(func() {
			conn, err := net.DialTimeout("tcp", addr, time.Minute)
			if err != nil {
				got[i] = answer{"no connection", err}
				sent.Done()
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Minute)) // a bound for a broken run, never reached by a working one
			go func() {
				_, err := conn.Write(request[:held])
				sent.Done()
				if err == nil {
					<-allSent
					conn.Write(request[held:])
				}
			}()
			got[i] = readAnswer(conn, size)
		})
	}
	sent.Wait()
	close(allSent)
	answered.Wait()
	return got
}

// An answer is what one client got: a status code for a whole answer,
// else the kind of failure and its error.
type answer struct {
	got string
	err error
}

// readAnswer reads one whole response; a 200 must say that /environ read
// the whole body.
func readAnswer(conn net.Conn, size int) answer {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return answer{"no answer", err}
	}
	text, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return answer{fmt.Sprintf("a %d cut short", resp.StatusCode), err}
	case resp.StatusCode == 200 && !bytes.Contains(text, fmt.Appendf(nil, "body: %d bytes read", size)):
		return answer{"a 200 without the whole body read", fmt.Errorf("%q", text)}
	}
	return answer{strconv.Itoa(resp.StatusCode), nil}
}

// peakMemory reads the most memory the container's cgroup has used, as
// the host sees it: cgroup v1's memory.max_usage_in_bytes, or v2's
// memory.peak. It returns 0 and the paths tried when neither is there.
func peakMemory(id string) (int64, string) {
	paths := []string{
		"/sys/fs/cgroup/memory/docker/" + id + "/memory.max_usage_in_bytes",
		"/sys/fs/cgroup/system.slice/docker-" + id + ".scope/memory.peak",
	}
	for _, path := range paths {
		if text, err := os.ReadFile(path); err == nil {
			n, _ := strconv.ParseInt(strings.TrimSpace(string(text)), 10, 64)
			return n, path
		}
	}
	return 0, strings.Join(paths, " or ")
}
