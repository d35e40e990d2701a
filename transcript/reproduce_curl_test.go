package transcript

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReproduceSendsTheTranscriptRequests runs the curl command that a
// failing transcript prints, for every distinct request of every step that
// gets one, against a listener that reads what curl sent, and checks that
// it is the transcript's request: the same method, target, version, Host,
// header fields (curl puts them in an order of its own) and body.
func TestReproduceSendsTheTranscriptRequests(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("COURSE_REQUIRE_PEERS") != "" {
			t.Fatal("curl not found, and CI or COURSE_REQUIRE_PEERS is set, so the reproduce commands may not go unchecked")
		}
		t.Skip("curl not found (Debian: apt install curl); the reproduce commands go unchecked")
	}
	paths, err := filepath.Glob("../step*/testdata/transcripts/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no transcripts found (%v)", err)
	}
	seen := map[string]bool{}
	curls := 0
	for _, path := range paths {
		tr, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		request := tr.Exchanges[0].Request
		if len(tr.Exchanges) != 1 || seen[string(request)] {
			continue
		}
		seen[string(request)] = true
		want, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(request)))
		if err != nil {
			continue // not a request Go reads: Reproduce gives nc for those (TestReproduce)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		command := Reproduce(request, ln.Addr().String())
		if !strings.HasPrefix(command, "curl ") {
			ln.Close()
			continue
		}
		curls++
		name, _ := filepath.Rel("..", path)
		t.Run(name, func(t *testing.T) {
			defer ln.Close()
			got := make(chan *http.Request, 1)
			go func() {
				defer close(got)
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(exchangeTimeout))
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err == nil {
					req.Body = bufferedBody(req.Body)
					got <- req
				}
				io.WriteString(conn, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			}()
			ctx, cancel := context.WithTimeout(context.Background(), exchangeTimeout)
			defer cancel()
			exec.CommandContext(ctx, "sh", "-c", command).Run()
			req := <-got
			if req == nil {
				t.Fatalf("$ %s\nsent nothing a server could read", command)
			}
			if diff := cmp.Diff(summary(want), summary(req)); diff != "" {
				t.Errorf("$ %s\nsent another request than %s (-want +got):\n%s", command, name, diff)
			}
		})
	}
	if curls == 0 {
		t.Error("no transcript got a curl command: the test checked nothing")
	}
}

// summary is what a request means, in a form go-cmp can compare.
func summary(r *http.Request) map[string]any {
	body, _ := io.ReadAll(r.Body)
	return map[string]any{
		"request line": r.Method + " " + r.RequestURI + " " + r.Proto,
		"Host":         r.Host,
		"header":       map[string][]string(r.Header),
		"body":         string(body),
	}
}

// bufferedBody reads a body whole while the connection is still open.
func bufferedBody(body io.ReadCloser) io.ReadCloser {
	all, _ := io.ReadAll(body)
	return io.NopCloser(bytes.NewReader(all))
}
