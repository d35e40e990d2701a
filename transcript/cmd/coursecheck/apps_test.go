package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// appRunBound bounds one run of pyapps/run_app.py (a whole step's
// requests, about a second): it is not a timing assertion, only so that
// an app that hangs fails this test by name instead of the test binary.
const appRunBound = 5 * time.Minute

// appAnswer is what pyapps/run_app.py prints for one request: what the
// Python app gave start_response, its body, and the exception that
// stopped it (sent: after a chunk had gone out).
type appAnswer struct {
	Status  string     `json:"status"`
	Headers [][]string `json:"headers"`
	Body    string     `json:"body"` // base64
	Error   *string    `json:"error"`
	Sent    bool       `json:"sent"`
	Errors  string     `json:"errors"` // what it wrote to wsgi.errors
}

// appCase is one request of a transcript whose recorded answer is the Go
// app's, with that answer.
type appCase struct {
	name    string // transcript, and the request's number when there are several
	request []byte
	want    response
}

// answerOfAServerState are the transcripts whose app answers from a state
// of the Go server no WSGI server hands its app. (The checker's other
// needsSetup exchanges are compared: over-cap-503 is the server's own
// refusal, and shutdown-in-flight is an app's plain answer.)
var answerOfAServerState = map[string]string{
	"shutdown-healthz": "step 07's /healthz answers 503 while its server shuts down; PEP 3333 gives an app no way to know that",
}

// serverOnlyHeaders are the fields a course server writes itself, never
// the app: Content-Length the server may compute, so it is compared only
// when the Python app sets it.
var serverOnlyHeaders = []string{"Date", "Server", "Connection", "Transfer-Encoding", "Content-Length"}

// TestPythonAppsAnswerAsTheGoApps proves pyapps/course_apps.py answers
// what the Go demos answer: every request of steps 01, 04-07's
// transcripts whose recorded answer is the app's (not the server's own
// refusal) is given to the Python app by pyapps/run_app.py, with no
// server in between, and its status line, headers and body must be the
// recorded ones: the body exactly, except the environ echo, compared in
// the checker's neutral form plus its keys' order, and a JSON decoder's
// words.
func TestPythonAppsAnswerAsTheGoApps(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		requirePeer(t, "python3 not found; comparing the Python apps with the Go ones needs it")
	}
	course, err := loadCourse(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range peerSteps {
		step := course[n-1]
		t.Run(step.dir, func(t *testing.T) {
			cases, skipped := appCases(step)
			for _, s := range skipped {
				t.Logf("skipped %s", s)
			}
			if len(cases) == 0 {
				t.Fatal("no request of this step is answered by its app: the skip rules are wrong")
			}
			answers := runPythonApp(t, python, step.n, cases)
			for i, c := range cases {
				if diff := cmp.Diff(goAnswerView(c), pythonAnswerView(c, answers[i])); diff != "" {
					t.Errorf("%s: the Python app's answer differs from the Go app's (-go +python):\n%s"+
						"request: %q\nits wsgi.errors: %q\nreproduce: python3 pyapps/run_app.py step%02d FILE, FILE holding the request",
						c.name, diff, c.request, answers[i].Errors, step.n)
				}
			}
			t.Logf("%s: %d requests compared, %d skipped", step.dir, len(cases), len(skipped))
		})
	}
}

// appCases pairs every request of the step's transcripts with its
// recorded answer, and says why the ones left out are left out.
func appCases(step courseStep) (cases []appCase, skipped []string) {
	for _, tr := range step.all {
		if why, ok := answerOfAServerState[tr.Name]; ok {
			skipped = append(skipped, tr.Name+": "+why)
			continue
		}
		var requests [][]byte
		var answers []response
		for _, ex := range tr.Exchanges {
			reqs := splitRequests(ex.Request)
			methods := requestMethods(ex.Request)
			if step.n >= 2 && step.n <= 4 {
				methods = nil // steps 02-04 send HEAD a body: frame it as GET's
			}
			resps, _, _ := parseResponses(ex.Response, methods)
			for i, r := range reqs {
				requests = append(requests, r)
				if i < len(resps) {
					answers = append(answers, resps[i])
				} else {
					answers = append(answers, response{code: -1})
				}
			}
		}
		if len(requests) == 0 {
			skipped = append(skipped, tr.Name+": no complete request (the server answers the bytes itself)")
		}
		for i, r := range requests {
			name := tr.Name
			if len(requests) > 1 {
				name = fmt.Sprintf("%s (request %d)", tr.Name, i+1)
			}
			switch w := answers[i]; {
			case w.code == -1:
				skipped = append(skipped, name+": no answer recorded (the server closed the connection before it)")
			case serversOwnRefusal(w):
				skipped = append(skipped, fmt.Sprintf("%s: %d is the server's own refusal, not the app's answer", name, w.code))
			default:
				cases = append(cases, appCase{name: name, request: r, want: w})
			}
		}
	}
	return cases, skipped
}

// runPythonApp runs pyapps/run_app.py once for all the cases, one file
// per request, and reads its line of JSON for each.
func runPythonApp(t *testing.T, python string, step int, cases []appCase) []appAnswer {
	dir := t.TempDir()
	args := []string{filepath.Join(root, "pyapps", "run_app.py"), fmt.Sprintf("step%02d", step)}
	for i, c := range cases {
		file := filepath.Join(dir, fmt.Sprintf("%03d.http", i))
		if err := os.WriteFile(file, c.request, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, file)
	}
	ctx, cancel := context.WithTimeout(context.Background(), appRunBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1") // no __pycache__ in pyapps/
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 run_app.py step%02d: %v\n%s", step, err, stderr.String())
	}
	var answers []appAnswer
	lines := bufio.NewScanner(bytes.NewReader(out))
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var a appAnswer
		if err := json.Unmarshal(lines.Bytes(), &a); err != nil {
			t.Fatalf("run_app.py printed %q: %v", lines.Text(), err)
		}
		answers = append(answers, a)
	}
	if len(answers) != len(cases) {
		t.Fatalf("run_app.py answered %d requests of %d\n%s", len(answers), len(cases), stderr.String())
	}
	return answers
}

// goAnswerView renders the recorded answer of the Go app as lines.
func goAnswerView(c appCase) []string {
	w := c.want
	var headers [][2]string
	for _, f := range w.fields {
		if !slices.Contains(serverOnlyHeaders, textproto.CanonicalMIMEHeaderKey(f[0])) {
			headers = append(headers, f)
		}
	}
	cutOff := w.broken != ""
	return answerView(c, fmt.Sprintf("%d %s", w.code, w.reason), headers, w.body, cutOff)
}

// pythonAnswerView renders the Python app's answer the same way. A
// Content-Length the app sets must be its body's length (the recorded
// one's, for HEAD): the recording cannot tell whether the Go app or its
// server set it, and a JSON decoder's words make the lengths differ.
func pythonAnswerView(c appCase, a appAnswer) []string {
	var headers [][2]string
	var lines []string
	body, err := base64.StdEncoding.DecodeString(a.Body)
	if err != nil {
		lines = append(lines, "a body that is not base64: "+err.Error())
	}
	for _, h := range a.Headers {
		name := textproto.CanonicalMIMEHeaderKey(h[0])
		if name == "Content-Length" {
			want := strconv.Itoa(len(body))
			if c.want.framing == "none" {
				want, _ = c.want.field(name)
			}
			if h[1] != want {
				lines = append(lines, fmt.Sprintf("the app's Content-Length is %s, its body's %s", h[1], want))
			}
			continue
		}
		if !slices.Contains(serverOnlyHeaders, name) {
			headers = append(headers, [2]string{h[0], h[1]})
		}
	}
	if a.Error != nil && !(a.Sent && c.want.broken != "") {
		lines = append(lines, "the app failed: "+*a.Error)
	}
	cutOff := a.Error != nil && a.Sent
	return append(answerView(c, a.Status, headers, body, cutOff), lines...)
}

// answerView is what must be the same in both: the status line as the
// app wrote it, the app's headers (as a set; a fresh request id's value
// left out), whether the body was cut off by a failure, and the body as
// the checker sees it (none for HEAD: the server does not send it).
func answerView(c appCase, status string, fields [][2]string, body []byte, cutOff bool) []string {
	lines := []string{"status " + status}
	_, idSent := requestField(c.request, "X-Request-Id")
	var headers []string
	for _, f := range fields {
		name, value := textproto.CanonicalMIMEHeaderKey(f[0]), f[1]
		if name == "X-Request-Id" && !idSent {
			value = "(a fresh id)"
		}
		headers = append(headers, "header "+name+": "+value)
	}
	slices.Sort(headers)
	lines = append(lines, headers...)
	if cutOff {
		lines = append(lines, "the app failed after its first chunk: the body is cut off")
	}
	if c.want.framing == "none" {
		return append(lines, "(no body: "+c.want.framing+")")
	}
	lines = append(lines, "body:")
	for _, l := range bodyView(c.request, c.want.body, body) {
		lines = append(lines, "  "+l)
	}
	if isEnvironEcho(c.want.body) {
		lines = append(lines, "keys in order: "+strings.Join(echoKeys(body), " "))
	}
	return lines
}

// echoKeys are an echo's keys in the order printed (sorted, if the app
// is right), without the course servers' own server.response_status.
func echoKeys(body []byte) []string {
	var keys []string
	for line := range strings.SplitSeq(string(body), "\n") {
		key, _, ok := strings.Cut(line, " = ")
		if ok && !strings.Contains(key, " ") && !courseOnly[key] {
			keys = append(keys, key)
		}
	}
	return keys
}
