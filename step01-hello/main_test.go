package main

import (
	"context"
	"io"
	"iter"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

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
	tests := []struct{ addr, want string }{
		{"127.0.0.1:0", `^http://127\.0\.0\.1:\d+/$`},
		{"localhost:0", `^http://127\.0\.0\.1:\d+/$`},
		// A wildcard address prints as [::], which no browser opens.
		{"0.0.0.0:0", `^http://127\.0\.0\.1:\d+/ \(listening on all interfaces\)$`},
		{":0", `^http://127\.0\.0\.1:\d+/ \(listening on all interfaces\)$`},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			line := transcript.StartMain(t, run, "-addr", tt.addr)
			printed, ok := strings.CutPrefix(line, "step01-hello serving on ")
			if !ok || !regexp.MustCompile(tt.want).MatchString(printed) {
				t.Fatalf("first line = %q, want \"step01-hello serving on \" and %s", line, tt.want)
			}
			url, _, _ := strings.Cut(printed, " ")
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != "Hello, world!\n" {
				t.Errorf("GET %s = %d %q, want 200 \"Hello, world!\\n\"", url, resp.StatusCode, body)
			}
		})
	}
}

// TestCommandLineMistakes runs main in a child process, as a learner
// would, so its exit code and everything it prints are what is checked;
// none of it lands in this test's output.
func TestCommandLineMistakes(t *testing.T) {
	if args, ok := os.LookupEnv("STEP_MAIN_ARGS"); ok {
		os.Args = append([]string{"step01-hello"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	const formHint = "(-addr takes host:port, such as 127.0.0.1:8001)"
	tests := []struct {
		name     string
		args     string
		exitCode int
		once     []string // each printed exactly once
	}{
		{"unknown flag", "-port 80", 2, []string{"flag provided but not defined: -port\n", "Usage of step01-hello:"}},
		{"extra argument", "8001", 2, []string{`unexpected argument "8001": every setting is a flag, such as -addr 127.0.0.1:8001`, "Usage of step01-hello:"}},
		{"argument after the flags", "-addr 127.0.0.1:0 now", 2, []string{`unexpected argument "now"`}},
		{"help", "-h", 0, []string{"Usage of step01-hello:", "-addr host:port"}},
		{"port in use", "-addr " + busy.Addr().String(), 1, []string{"step01-hello: listen tcp " + busy.Addr().String() + ": bind: address already in use (is another server using it? pick another port with -addr)\n"}},
		{"no port", "-addr nonsense", 1, []string{"step01-hello: listen tcp: address nonsense: missing port in address " + formHint}},
		{"port alone", "-addr 8005", 1, []string{"address 8005: missing port in address " + formHint}},
		{"port out of range", "-addr :99999", 1, []string{"address 99999: invalid port " + formHint}},
		// net.Listen takes these two, but neither can be what was meant.
		{"empty address", "-addr=", 2, []string{`invalid -addr "": it takes host:port with a numeric port, such as 127.0.0.1:8001 (port 0: any free one)` + "\n"}},
		{"port by its service name", "-addr 127.0.0.1:http", 2, []string{`invalid -addr "127.0.0.1:http": it takes host:port with a numeric port, such as 127.0.0.1:8001 (port 0: any free one)` + "\n"}},
		{"host that does not resolve", "-addr bad..name:8001", 1, []string{"lookup bad..name: no such host " + formHint}},
		{"address of another machine", "-addr 192.0.2.1:8001", 1, []string{"cannot assign requested address (the host must be one of this machine's addresses, such as 127.0.0.1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every row must make main exit; one that serves instead is
			// killed after a minute, so a broken main fails, not hangs.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCommandLineMistakes$")
			cmd.Env = append(os.Environ(), "STEP_MAIN_ARGS="+tt.args)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tt.exitCode {
				t.Errorf("step01-hello %s: exit code %d (%v), want %d", tt.args, code, err, tt.exitCode)
				if ctx.Err() != nil {
					t.Errorf("step01-hello %s was still running after a minute: it must refuse and exit", tt.args)
				}
			}
			all := stdout.String() + stderr.String()
			for _, want := range tt.once {
				if n := strings.Count(all, want); n != 1 {
					t.Errorf("step01-hello %s printed %q %d times, want once; it printed:\n%s", tt.args, want, n, all)
				}
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
