package transcript

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// These tests pin the harness itself: a harness that rewrites goldens by
// default, accepts an empty folder or misframes a response would let every
// step's golden test pass whatever the server sends.

// With update mode on by default every TestTranscript and TestREADME of the
// course would rewrite its goldens and pass. Only -update or UPDATE_GOLDEN=1
// may turn it on.
func TestUpdateModeIsOffByDefault(t *testing.T) {
	f := flag.Lookup("update")
	if f == nil || f.DefValue != "false" {
		t.Fatalf("the -update flag = %+v; want a flag whose default is false", f)
	}
	saved := *update
	t.Cleanup(func() { *update = saved })
	tests := []struct {
		flag bool
		env  string
		want bool
	}{
		{false, "", false},
		{false, "0", false},
		{false, "true", false}, // only "1" asks for it
		{false, "1", true},
		{true, "", true},
	}
	for _, tt := range tests {
		*update = tt.flag
		t.Setenv("UPDATE_GOLDEN", tt.env)
		if got := Updating(); got != tt.want {
			t.Errorf("-update=%v, UPDATE_GOLDEN=%q: Updating() = %v, want %v", tt.flag, tt.env, got, tt.want)
		}
	}
}

// recorder stands in for a test, so CheckREADME's failures can be read.
type recorder struct {
	testing.TB
	name     string
	failures []string
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }
func (r *recorder) Logf(string, ...any) {
}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatal(args ...any) {
	r.failures = append(r.failures, fmt.Sprint(args...))
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// checkREADME runs CheckREADME as the test named name and returns its failures.
func checkREADME(t *testing.T, name string) []string {
	r := &recorder{TB: t, name: name}
	done := make(chan struct{})
	go func() {
		defer close(done)
		CheckREADME(r)
	}()
	<-done
	return r.failures
}

// inStep makes a step folder with README.md holding readme and the
// hello.txtar transcript, and moves the test into it.
func inStep(t *testing.T, readme string) string {
	hello, err := os.ReadFile("testdata/hello.txtar")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "step09-demo")
	if err := os.MkdirAll(filepath.Join(dir, "testdata", "transcripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "testdata", "transcripts", "hello.txtar"), hello, 0o644)
	if readme != "" {
		os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644)
	}
	t.Chdir(dir)
	return dir
}

func TestCheckREADME(t *testing.T) {
	fresh, err := FillREADME([]byte("# Step\n<!-- transcript: hello -->\n<!-- end transcript -->\n"), "testdata")
	if err != nil {
		t.Fatal(err)
	}
	stale := "# Step\n<!-- transcript: hello -->\n```console\n< HTTP/1.1 200 OK\n```\n<!-- end transcript -->\n"
	tests := []struct {
		name     string
		readme   string // "" means no README.md at all
		updating bool
		want     string // a part of the one failure; "" for none
		after    string // README.md afterwards
	}{
		{"fresh block passes", string(fresh), false, "", string(fresh)},
		{"stale block fails and names the command", stale, false,
			"regenerate it with: go test ./step09-demo -run '^TestREADME$' -update", stale},
		{"stale block is rewritten on -update", stale, true, "", string(fresh)},
		{"README without a block fails", "# Step\nno output shown\n", false, "no <!-- transcript: NAME --> block", "# Step\nno output shown\n"},
		{"block naming a missing transcript fails", "<!-- transcript: gone -->\n<!-- end transcript -->\n", false,
			"gone.txtar", "<!-- transcript: gone -->\n<!-- end transcript -->\n"},
		{"no README fails", "", false, "README.md", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inStep(t, tt.readme)
			env := ""
			if tt.updating {
				env = "1"
			}
			t.Setenv("UPDATE_GOLDEN", env)
			saved := *update
			*update = false
			defer func() { *update = saved }()

			failures := checkREADME(t, "TestREADME")
			switch {
			case tt.want == "" && len(failures) > 0:
				t.Errorf("CheckREADME failed: %q; want a pass", failures)
			case tt.want != "" && (len(failures) != 1 || !strings.Contains(failures[0], tt.want)):
				t.Errorf("CheckREADME failures = %q; want one containing %q", failures, tt.want)
			}
			got, _ := os.ReadFile("README.md")
			if diff := cmp.Diff(tt.after, string(got)); diff != "" {
				t.Errorf("README.md afterwards (-want +got):\n%s", diff)
			}
		})
	}
}

// A golden test that finds nothing to compare must not pass.
func TestNothingToCompareIsAnError(t *testing.T) {
	if _, err := LoadDir(t.TempDir()); err == nil {
		t.Error("LoadDir of an empty folder succeeded")
	}
	bad := map[string]string{
		"empty file":                  "",
		"a comment only":              "# a case someone forgot to write\n",
		"a response and no request":   "-- response --\nHTTP/1.1 200 OK\\r\\n\n\\r\\n\n",
		"request 2 without request 1": "-- request 2 --\nGET / HTTP/1.1\\r\\n\n\\r\\n\n",
		"section number 0":            "-- request 0 --\nGET / HTTP/1.1\\r\\n\n",
		"section number 101":          "-- request 101 --\nGET / HTTP/1.1\\r\\n\n",
		"section number not a number": "-- request two --\nGET / HTTP/1.1\\r\\n\n",
	}
	for name, text := range bad {
		if tr, err := Parse("x.txtar", []byte(text)); err == nil {
			t.Errorf("%s: Parse = %d exchanges, nil; want an error", name, len(tr.Exchanges))
		}
	}
	// A folder holding one bad file fails as a whole.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ok.txtar"), []byte("-- request --\nGET / HTTP/1.0\\r\\n\n\\r\\n\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.txtar"), nil, 0o644)
	if _, err := LoadDir(dir); err == nil {
		t.Error("LoadDir with an empty transcript file succeeded")
	}
	// 100 exchanges on one connection are allowed, 101 are not.
	var src strings.Builder
	for i := 1; i <= 101; i++ {
		fmt.Fprintf(&src, "-- request %d --\nGET /%d HTTP/1.1\\r\\n\n\\r\\n\n", i, i)
		tr, err := Parse("x.txtar", []byte(src.String()))
		switch {
		case i <= 100 && (err != nil || len(tr.Exchanges) != i):
			t.Errorf("%d exchanges: Parse = %v; want %d exchanges", i, err, i)
		case i == 101 && err == nil:
			t.Errorf("101 exchanges: Parse succeeded; want an error")
		}
	}
}

// A client must frame each response as RFC 9112 §6.3 says; a harness that
// reads a body after a 304 would swallow the next response and compare
// garbage with garbage.
func TestReplayFramesBodylessResponses(t *testing.T) {
	const next = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	tests := []struct {
		name, method, first, want string
	}{
		{"304 with a Content-Length", "GET",
			"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", ""},
		{"204 with a Content-Length", "GET",
			"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", ""},
		{"HEAD with a Content-Length", "HEAD",
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", ""},
		{"HEAD with chunked", "HEAD",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", ""},
		{"1xx before the final response", "GET",
			"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", ""},
		{"chunked with extensions and trailers", "GET",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", ""},
		{"Date is normalised in the head only", "GET",
			"HTTP/1.1 200 OK\r\ndate: Sat, 21 Nov 2026 20:00:00 GMT\r\nContent-Length: 12\r\n\r\nDate: kept\r\n",
			"HTTP/1.1 200 OK\r\nDate: <DATE>\r\nContent-Length: 12\r\n\r\nDate: kept\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := Start(t, fixedServer(tt.first, next))
			tr := &Transcript{Exchanges: []Exchange{
				{Request: []byte(tt.method + " /1 HTTP/1.1\r\n\r\n")},
				{Request: []byte("GET /2 HTTP/1.1\r\n\r\n")},
			}}
			got, err := Replay(addr, tr)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{tt.first, next}
			if tt.want != "" {
				want[0] = tt.want
			}
			checkReplay(t, want, got)
		})
	}
}

func TestReproduceKeepsTheVersionAndTheBytes(t *testing.T) {
	tests := []struct {
		name, request, want string
	}{
		{"simple GET", "GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8003\r\nX-Y: z\r\n\r\n",
			"curl -v --http1.1 -H 'X-Y: z' -H 'User-Agent:' -H 'Accept:' 'http://127.0.0.1:8003/a?b=1'"},
		{"POST with body", "POST /p HTTP/1.1\r\nHost: 127.0.0.1:8003\r\nContent-Length: 2\r\n\r\nhi",
			"curl -v --http1.1 -X POST -H 'User-Agent:' -H 'Accept:' -H 'Content-Type:' --data-binary 'hi' 'http://127.0.0.1:8003/p'"},
		{"bad syntax needs nc", "GET  / HTTP/1.1\r\n\r\n",
			`printf 'GET  / HTTP/1.1\r\n\r\n' | nc 127.0.0.1 8003`},
		{"odd bytes", "GET /\xff%'\r\n\r\n",
			`printf 'GET /\377%%'\''\r\n\r\n' | nc 127.0.0.1 8003`},
		{"HTTP/1.0 GET", "GET / HTTP/1.0\r\nHost: 127.0.0.1:8003\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
			"curl -v --http1.0 -H 'User-Agent: t' -H 'Accept: */*' 'http://127.0.0.1:8003/'"},
		{"HTTP/1.0 HEAD", "HEAD /x HTTP/1.0\r\nHost: 127.0.0.1:8003\r\nAccept: */*\r\n\r\n", "curl -v --http1.0 --head -H 'Accept: */*' -H 'User-Agent:' 'http://127.0.0.1:8003/x'"},
		{"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", `printf 'GET / HTTP/1.0\r\n\r\n' | nc 127.0.0.1 8003`},
		{"HTTP/1.1 HEAD", "HEAD / HTTP/1.1\r\nHost: 127.0.0.1:8003\r\n\r\n", "curl -v --http1.1 --head -H 'User-Agent:' -H 'Accept:' 'http://127.0.0.1:8003/'"},
		{"POST without a body", "POST /p HTTP/1.1\r\nHost: 127.0.0.1:8003\r\nContent-Length: 0\r\n\r\n", "curl -v --http1.1 -X POST -H 'Content-Length: 0' -H 'User-Agent:' -H 'Accept:' 'http://127.0.0.1:8003/p'"},
		{"a dot segment", "GET /a/../b HTTP/1.1\r\nHost: 127.0.0.1:8003\r\n\r\n", "curl -v --http1.1 --path-as-is -H 'User-Agent:' -H 'Accept:' 'http://127.0.0.1:8003/a/../b'"},
		{"a fragment", "GET /a#b HTTP/1.1\r\nHost: 127.0.0.1:8003\r\n\r\n", `printf 'GET /a#b HTTP/1.1\r\nHost: 127.0.0.1:8003\r\n\r\n' | nc 127.0.0.1 8003`},
		{"a folded field line", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
			`printf 'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n' | nc 127.0.0.1 8003`},
		{"a space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
			`printf 'GET / HTTP/1.1\r\nHost : x\r\n\r\n' | nc 127.0.0.1 8003`},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
			`printf 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n' | nc 127.0.0.1 8003`},
		{"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", `printf 'GET / HTTP/2.0\r\n\r\n' | nc 127.0.0.1 8003`},
		{"pipelined requests", "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
			`printf 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n' | nc 127.0.0.1 8003`},
		{"body shorter than its Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nhi",
			`printf 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nhi' | nc 127.0.0.1 8003`},
		{"chunked body", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			`printf 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' | nc 127.0.0.1 8003`},
		{"absolute-form target", "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
			`printf 'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n' | nc 127.0.0.1 8003`},
		{"head cut short", "GET / HTTP/1.1\r\nHost: x\r\n",
			`printf 'GET / HTTP/1.1\r\nHost: x\r\n' | nc 127.0.0.1 8003`},
		{"a tab in a field", "GET / HTTP/1.1\r\nX: a\tb\r\n\r\n",
			`printf 'GET / HTTP/1.1\r\nX: a\011b\r\n\r\n' | nc 127.0.0.1 8003`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reproduce([]byte(tt.request), "127.0.0.1:8003"); got != tt.want {
				t.Errorf("Reproduce =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	tr := &Transcript{Exchanges: []Exchange{
		{Request: []byte("POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\nab\x00c"),
			Response: []byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok\r\n")},
		{Request: []byte("GET / HTTP/1.1\r\nX: cut"), Response: []byte{}},
	}}
	want := "```console\n" +
		"> POST / HTTP/1.1\n> Expect: 100-continue\n>\nab\\x00c\n" +
		"< HTTP/1.1 100 Continue\n<\n< HTTP/1.1 200 OK\n< Content-Length: 4\n<\nok\\r\n" +
		"\n" +
		"> GET / HTTP/1.1\n> X: cut\n" +
		"(the server sent nothing and closed the connection)\n" +
		"```\n"
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(Render(tr), "\n")); diff != "" {
		t.Errorf("Render mismatch (-want +got):\n%s", diff)
	}
}

func TestLines(t *testing.T) {
	got := Lines([]byte("A\r\nB\nC"))
	if diff := cmp.Diff([]string{`A\r\n`, `B\n`, "C"}, got); diff != "" {
		t.Errorf("Lines mismatch (-want +got):\n%s", diff)
	}
	if got := Lines(nil); len(got) != 0 {
		t.Errorf("Lines(nil) = %q, want none", got)
	}
}

func TestProblemsWhenResponsesAreMissing(t *testing.T) {
	tr := &Transcript{Path: "two.txtar", Exchanges: []Exchange{
		{Request: []byte("GET /1 HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
		{Request: []byte("GET /2 HTTP/1.1\r\n\r\n"), Response: []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")},
	}}
	// The server closed after the first answer.
	problems := Problems(tr, [][]byte{tr.Exchanges[0].Response}, "127.0.0.1:8000", "go test -update")
	if len(problems) != 1 || !strings.Contains(problems[0], "response 2 mismatch") || !strings.Contains(problems[0], "go test -update") {
		t.Errorf("problems = %q; want one for response 2 with the update command", problems)
	}
	// Each response is compared with its own golden.
	tr.Exchanges[1].Response = []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	if p := Problems(tr, [][]byte{tr.Exchanges[0].Response, tr.Exchanges[1].Response}, "a:1", ""); len(p) != 0 {
		t.Errorf("problems = %q; want none when every response matches its own golden", p)
	}
	// A golden that expects nothing fails when something comes back.
	tr.Exchanges[1].Response = []byte{}
	if p := Problems(tr, [][]byte{tr.Exchanges[0].Response, []byte("x")}, "a:1", ""); len(p) != 1 {
		t.Errorf("problems = %q; want one for the unexpected bytes", p)
	}
}

func TestUpdateCommand(t *testing.T) {
	t.Run("sub", func(t *testing.T) {
		got := UpdateCommand(t, &Transcript{Name: "get-root"})
		if want := "go test ./transcript -run 'TestUpdateCommand/^get-root$' -update"; got != want {
			t.Errorf("UpdateCommand = %q, want %q", got, want)
		}
	})
}

// Run in update mode writes what the server sent; outside it, Run must
// leave the golden's bytes alone even where rewriting would change only
// the layout.
func TestRunUpdatesOnlyWhenAsked(t *testing.T) {
	const answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
	dir := inStep(t, "")
	path := filepath.Join(dir, "testdata", "transcripts", "hello.txtar")
	saved := *update
	*update = false
	defer func() { *update = saved }()

	os.WriteFile(path, []byte("# new\n-- request --\nGET / HTTP/1.1\\r\\n\n\\r\\n\n"), 0o644)
	t.Setenv("UPDATE_GOLDEN", "1")
	t.Run("update", func(t *testing.T) { Run(t, fixedServer(answer), "127.0.0.1:8000") })
	got, _ := os.ReadFile(path)
	want := "# new\n-- request --\nGET / HTTP/1.1\\r\\n\n\\r\\n\n-- response --\n" + Encode([]byte(answer))
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("after Run with UPDATE_GOLDEN=1 (-want +got):\n%s", diff)
	}

	// The same response, spelled on one physical line: equal on the wire,
	// different as a file.
	oneLine := "# new\n-- request --\nGET / HTTP/1.1\\r\\n\\r\\n\n-- response --\n" + strings.ReplaceAll(Encode([]byte(answer)), "\n", "") + "\n"
	os.WriteFile(path, []byte(oneLine), 0o644)
	t.Setenv("UPDATE_GOLDEN", "")
	t.Run("compare", func(t *testing.T) { Run(t, fixedServer(answer), "127.0.0.1:8000") })
	if got, _ := os.ReadFile(path); string(got) != oneLine {
		t.Errorf("Run without -update rewrote the golden:\n%s", got)
	}
}

func TestStartMainReturnsTheFirstLineAndStops(t *testing.T) {
	stopped := make(chan struct{})
	t.Run("run", func(t *testing.T) {
		line := StartMain(t, func(ctx context.Context, args []string, stdout io.Writer) error {
			fmt.Fprintf(stdout, "serving with %s\nmore output\n", strings.Join(args, " "))
			<-ctx.Done()
			close(stopped)
			return nil
		}, "-addr", "x")
		if line != "serving with -addr x" {
			t.Errorf("StartMain = %q, want the first line without its newline", line)
		}
	})
	select {
	case <-stopped:
	default:
		t.Error("run's context was not cancelled when the test ended")
	}
}

func TestStartStopsTheServerWithTheTest(t *testing.T) {
	returned := make(chan struct{})
	var addr string
	t.Run("serve", func(t *testing.T) {
		addr = Start(t, func(ln net.Listener) error {
			defer close(returned)
			for {
				conn, err := ln.Accept()
				if err != nil {
					return nil
				}
				conn.Close()
			}
		})
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("Start = %q, want a 127.0.0.1 address", addr)
		}
	})
	select {
	case <-returned:
	default:
		t.Error("serve had not returned when the test ended: its listener was not closed")
	}
}

// What is not an HTTP response is kept as it came, to the close: nothing
// in it is normalised.
func TestReplayKeepsWhatIsNotHTTP(t *testing.T) {
	const garbage = "Date: not a status line\r\nDate: nor this\r\n"
	addr := Start(t, fixedServer(garbage))
	got, err := Replay(addr, &Transcript{Exchanges: []Exchange{{Request: []byte("GET / HTTP/1.1\r\n\r\n")}}})
	if err != nil || len(got) != 1 || string(got[0]) != garbage {
		t.Errorf("Replay = %q, %v; want %q as it came", got, err, garbage)
	}
}

// After its last request the client half-closes, as `printf … | nc` does:
// a server that reads to the end before it closes must see that end.
func TestReplayHalfClosesAfterTheLastRequest(t *testing.T) {
	const answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	addr := Start(t, func(ln net.Listener) error {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return nil
			}
			go func() {
				defer conn.Close()
				conn.Write([]byte(answer))
				io.Copy(io.Discard, conn) // until the client's FIN
			}()
		}
	})
	got, err := Replay(addr, &Transcript{Exchanges: []Exchange{{Request: []byte("GET / HTTP/1.1\r\n\r\n")}}})
	if err != nil || len(got) != 1 || string(got[0]) != answer {
		t.Errorf("Replay = %q, %v; want %q and the close", got, err, answer)
	}
}

// StartStep builds a step as it is on disk and serves it: a request to
// the address it returns gets the step's answer.
// An exercise names its step "../..": a path that ends in ".." works too.
func TestStartStepBuildsAndServesAStep(t *testing.T) {
	addr := StartStep(t, "../step02-socket/testdata/..", "-addr", "127.0.0.1:0")
	conn := Dial(t, addr)
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || status != "HTTP/1.1 200 OK\r\n" {
		t.Errorf("step02-socket answered %q, %v; want HTTP/1.1 200 OK", status, err)
	}
}

// With COURSE_SERVER set, StartStep builds nothing and hands back that
// address: an exercise's check then holds a server already running there.
func TestStartStepChecksTheCourseServer(t *testing.T) {
	t.Setenv("COURSE_SERVER", "127.0.0.1:9")
	if addr := StartStep(t, "../no-such-step", "-addr", "127.0.0.1:0"); addr != "127.0.0.1:9" {
		t.Errorf("StartStep with COURSE_SERVER=127.0.0.1:9 = %q", addr)
	}
}

// A step that stops before it serves (a flag it does not know, say) fails
// the check with what it printed, not with an empty first line.
func TestStartStepShowsWhyAStepDidNotServe(t *testing.T) {
	ft := &fakeT{T: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartStep(ft, "../step02-socket", "-no-such-flag")
	}()
	<-done
	if !strings.Contains(ft.fatal, "stopped without serving") || !strings.Contains(ft.fatal, "flag provided but not defined: -no-such-flag") {
		t.Errorf("StartStep with a bad flag failed with %q; want it to say the step stopped, and why", ft.fatal)
	}
}

// fakeT is a *testing.T whose Fatalf is recorded instead of failing the
// test, for testing helpers that call it.
type fakeT struct {
	*testing.T
	fatal string
}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
