package main

import (
	"context"
	"io"
	"iter"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"example.com/wsgicourse/transcript"
)

// TestTranscript replays testdata/transcripts/*.txtar against the adapter.
func TestTranscript(t *testing.T) {
	transcript.Run(t, func(ln net.Listener) error {
		http.Serve(ln, wsgiHandler(hello)) // returns when the test closes ln
		return nil
	}, "127.0.0.1:8001")
}

func TestREADME(t *testing.T) { transcript.CheckREADME(t) }

func TestRunPrintsItsURLAndServes(t *testing.T) {
	line := transcript.StartMain(t, run, "-addr", "127.0.0.1:0")
	url, ok := strings.CutPrefix(line, "step01-hello serving on ")
	if !ok || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(url) {
		t.Fatalf("first line = %q, want \"step01-hello serving on http://127.0.0.1:PORT/\"", line)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "Hello, world!\n" {
		t.Errorf("GET %s = %d %q, want 200 \"Hello, world!\\n\"", url, resp.StatusCode, body)
	}
}

func TestRunExplainsBadArguments(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"port in use", []string{"-addr", busy.Addr().String()}, "pick one with -addr"},
		{"unknown flag", []string{"-port", "80"}, "flag provided but not defined: -port"},
		{"bad address", []string{"-addr", "nonsense"}, "missing port in address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// An app that calls write() must still get its own status: net/http's
// Write on its own would send 200 OK first.
func TestWriteKeepsTheAppsStatus(t *testing.T) {
	app := func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
		write := startResponse("404 Not Here", []Header{{"Content-Type", "text/plain"}}, nil)
		write([]byte("written, "))
		return func(yield func([]byte) bool) { yield([]byte("then yielded\n")) }
	}
	addr := transcript.Start(t, func(ln net.Listener) error {
		http.Serve(ln, wsgiHandler(app)) // returns when the test closes ln
		return nil
	})
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// net/http writes its own reason phrase: "Not Found", not "Not Here".
	if resp.Status != "404 Not Found" || string(body) != "written, then yielded\n" {
		t.Errorf("got %q %q, want \"404 Not Found\" \"written, then yielded\\n\"", resp.Status, body)
	}
}
