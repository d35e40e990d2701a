package main

// Real Python apps served by step 08 (issue 17): wsgiref's demo_app, a
// Flask app, a Django project made at test time, and the course's own app
// inside wsgiref.validate.validator. Every request goes over a real TCP
// connection to a step 08 server started here, to Python workers that run
// the app as it would run in production.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// subprocessDeadline bounds every Python command a test runs on its own
// (django-admin, manage.py, an import probe): a machine shared with other
// jobs may be slow, but nothing may hang a test run.
const subprocessDeadline = 5 * time.Minute

// pythonImporting is an interpreter that imports module: Debian's
// /usr/bin/python3 first (where apt's python3-flask and python3-django
// land), then the first python3 on PATH (a pyenv or venv interpreter
// with its own packages). Without one the test skips, or fails in CI.
func pythonImporting(t *testing.T, module, debianPackage string) string {
	t.Helper()
	for _, candidate := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(candidate)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(t.Context(), subprocessDeadline)
		err = exec.CommandContext(ctx, path, "-c", "import "+module).Run()
		cancel()
		if err == nil {
			return path
		}
	}
	needPeer(t, fmt.Sprintf("no python3 here imports %s (Debian: apt-get install %s)", module, debianPackage))
	return ""
}

// serveMain runs step 08 as main does, with the flags given after -addr
// and -quiet, and returns its base URL ("http://127.0.0.1:PORT").
func serveMain(t *testing.T, args ...string) string {
	t.Helper()
	line := transcript.StartMain(t, run, append([]string{"-addr", "127.0.0.1:0", "-quiet"}, args...)...)
	url, ok := strings.CutPrefix(line, "step08-python serving on ")
	if !ok {
		t.Fatalf("run printed %q first, want \"step08-python serving on http://…\"", line)
	}
	return strings.TrimSuffix(url, "/")
}

// servePool serves cfg's app with main's stack (the middleware, /healthz)
// on a fresh port, with wsgi.errors and the pool's log going to logs, and
// returns the base URL. Request ids are fixed, as in the transcripts.
// Every timeout is generous: no test here races a clock.
func servePool(t *testing.T, cfg poolConfig, logs io.Writer) string {
	t.Helper()
	cfg.workers = max(cfg.workers, 2)
	cfg.queue = max(cfg.queue, 64)
	if cfg.timeout == 0 {
		cfg.timeout = subprocessDeadline
	}
	pool, err := startPool(cfg, logs)
	if err != nil {
		t.Fatalf("starting %d workers of %s -app %s: %v", cfg.workers, cfg.python, cfg.app, err)
	}
	t.Cleanup(func() { pool.Stop(10 * time.Second) }) // runs after the server below has stopped
	srv := &Server{Errors: logs, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}
	srv.App = withMiddleware(withHealthz(pool.App, srv.ShuttingDown, pool.Ready), nil, false, fixedID)
	return "http://" + transcript.Start(t, srv.Serve)
}

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{
	Timeout:       time.Minute,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// fetch sends req and returns the response with its whole body read.
func fetch(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return resp, string(body)
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func getURL(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	return fetch(t, newRequest(t, "GET", url, nil))
}

// TestWsgirefDemoApp serves the standard library's own demo app, as
// `-app wsgiref.simple_server:demo_app` on the command line.
func TestWsgirefDemoApp(t *testing.T) {
	base := serveMain(t, "-python", python3(t), "-app", "wsgiref.simple_server:demo_app", "-workers", "1")
	resp, body := getURL(t, base+"/some/path?q=1")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "Hello world!\n\n") {
		t.Fatalf("GET /some/path?q=1 = %d %q, want 200 and \"Hello world!\" then the environ", resp.StatusCode, clipForLog(body))
	}
	// demo_app lists the environ as key = repr(value), one a line, sorted.
	for _, want := range []string{
		"PATH_INFO = '/some/path'",
		"QUERY_STRING = 'q=1'",
		"REQUEST_METHOD = 'GET'",
		"wsgi.url_scheme = 'http'",
		"wsgi.version = (1, 0)",
		"wsgi.multiprocess = True",
		"wsgi.input = <__main__.InputStream object at ",
	} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("demo_app's environ listing has no line %q:\n%s", want, body)
		}
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q, want demo_app's text/plain; charset=utf-8", got)
	}
}

// flaskServer serves testdata/flaskapp/flaskapp.py.
func flaskServer(t *testing.T, logs io.Writer) string {
	python := pythonImporting(t, "flask", "python3-flask")
	return servePool(t, poolConfig{python: python, dir: filepath.Join("testdata", "flaskapp"), app: "flaskapp:app"}, logs)
}

func TestFlask(t *testing.T) {
	logs := &lockedBuffer{}
	base := flaskServer(t, logs)

	t.Run("GET /", func(t *testing.T) {
		resp, body := getURL(t, base+"/")
		if resp.StatusCode != 200 || body != "Hello from Flask\n" || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("GET / = %d %q (%s), want 200 \"Hello from Flask\\n\" as Flask's text/html", resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
	})
	t.Run("URL variable", func(t *testing.T) {
		// %C3%A9 is é: the worker hands Flask PATH_INFO as Latin-1 and
		// Werkzeug decodes it back to UTF-8, as under any WSGI server.
		resp, body := getURL(t, base+"/hello/caf%C3%A9")
		if resp.StatusCode != 200 || body != "Hello, café!\n" {
			t.Errorf("GET /hello/caf%%C3%%A9 = %d %q, want 200 \"Hello, café!\\n\"", resp.StatusCode, body)
		}
	})
	t.Run("JSON in and out", func(t *testing.T) {
		req := newRequest(t, "POST", base+"/json", strings.NewReader(`{"name":"gopher","n":[1,2,3],"ok":true}`))
		req.Header.Set("Content-Type", "application/json")
		resp, body := fetch(t, req)
		var got struct {
			Received map[string]any `json:"received"`
			Method   string         `json:"method"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST /json = %d %q (%v), want 200 and JSON", resp.StatusCode, body, err)
		}
		if got.Method != "POST" || got.Received["name"] != "gopher" || fmt.Sprint(got.Received["n"]) != "[1 2 3]" || got.Received["ok"] != true {
			t.Errorf("POST /json answered %+v, want the JSON sent back and method POST", got)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
	})
	t.Run("form POST", func(t *testing.T) {
		form := url.Values{"name": {"Zoë & co"}, "colour": {"blue"}}
		req := newRequest(t, "POST", base+"/form", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := fetch(t, req)
		if want := "name=Zoë & co colour=blue\n"; resp.StatusCode != 200 || body != want {
			t.Errorf("POST /form = %d %q, want 200 %q", resp.StatusCode, body, want)
		}
	})
	t.Run("streamed generator", func(t *testing.T) {
		const n = 2000
		resp, err := noRedirects.Do(newRequest(t, "GET", base+"/stream?n="+strconv.Itoa(n), nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" || resp.ContentLength != -1 {
			t.Errorf("GET /stream: %d, Transfer-Encoding %q, Content-Length %d; want 200, chunked, none (a generator has no known length)",
				resp.StatusCode, resp.TransferEncoding, resp.ContentLength)
		}
		lines := bufio.NewScanner(resp.Body)
		i := 0
		for ; lines.Scan(); i++ {
			if want := fmt.Sprintf("line %d", i); lines.Text() != want {
				t.Fatalf("line %d of the stream is %q, want %q", i, lines.Text(), want)
			}
		}
		if err := lines.Err(); err != nil || i != n {
			t.Errorf("the stream ended after %d lines (%v), want %d, each once", i, err, n)
		}
	})
	t.Run("exception is a 500", func(t *testing.T) {
		before := len(logs.String())
		resp, body := getURL(t, base+"/boom")
		if resp.StatusCode != 500 || !strings.Contains(body, "Internal Server Error") {
			t.Errorf("GET /boom = %d %q, want Flask's own 500 page", resp.StatusCode, clipForLog(body))
		}
		// Flask logs the exception to wsgi.errors: it reaches the server's
		// log, tagged with the request id, traceback and all.
		logged := logs.String()[before:]
		for _, want := range []string{"[" + fixedID() + "] ", "Exception on /boom [GET]", "Traceback (most recent call last):", "RuntimeError: boom: the app failed on purpose"} {
			if !strings.Contains(logged, want) {
				t.Errorf("the server's log has no %q after GET /boom:\n%s", want, logged)
			}
		}
	})
	t.Run("upload read in pieces", func(t *testing.T) {
		body := uploadBody(900_000)
		resp, answer := fetch(t, newRequest(t, "POST", base+"/upload", bytes.NewReader(body)))
		checkUpload(t, resp, answer, body, false)
	})
	t.Run("chunked upload", func(t *testing.T) {
		// Framed by hand, in chunks of 10,000 bytes (not a multiple of
		// the 64 KiB pieces Flask asks for), so it is chunked for sure.
		body := uploadBody(300_000)
		conn := transcript.Dial(t, strings.TrimPrefix(base, "http://"))
		w := bufio.NewWriter(conn)
		w.WriteString("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 10_000)
			fmt.Fprintf(w, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		w.WriteString("0\r\n\r\n")
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		checkUpload(t, resp, string(answer), body, true)
	})
	t.Run("over the body limit", func(t *testing.T) {
		resp, _ := fetch(t, newRequest(t, "POST", base+"/upload", bytes.NewReader(uploadBody(maxBodyBytes+1))))
		if resp.StatusCode != 413 {
			t.Errorf("POST /upload of %d bytes = %d, want the server's 413 before Flask sees it", maxBodyBytes+1, resp.StatusCode)
		}
	})
}

// uploadBody is n bytes that are not all alike, so a piece lost, repeated
// or out of order changes the digest.
func uploadBody(n int) []byte {
	body := make([]byte, n)
	for i := range body {
		body[i] = byte(i*7 + i/251)
	}
	return body
}

// checkUpload checks Flask's answer to /upload: it read the whole body,
// in 64 KiB pieces (a short read would make more pieces), bytes intact.
func checkUpload(t *testing.T, resp *http.Response, answer string, sent []byte, chunked bool) {
	t.Helper()
	var got struct {
		Size   int    `json:"size"`
		SHA256 string `json:"sha256"`
		Pieces int    `json:"pieces"`
	}
	if err := json.Unmarshal([]byte(answer), &got); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /upload = %d %q (%v), want 200 and JSON", resp.StatusCode, clipForLog(answer), err)
	}
	sum := sha256.Sum256(sent)
	wantPieces := (len(sent) + bodyPiece - 1) / bodyPiece
	if got.Size != len(sent) || got.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("Flask read %d bytes, sha256 %s; want %d, %x", got.Size, got.SHA256, len(sent), sum)
	}
	if got.Pieces != wantPieces {
		t.Errorf("Flask read the body in %d pieces, want %d: each read(64 KiB) gets a full piece until the end", got.Pieces, wantPieces)
	}
	t.Logf("chunked=%v: %d bytes in %d pieces, sha256 %.16s…", chunked, got.Size, got.Pieces, got.SHA256)
}

// djangoProject makes a new Django project in a temporary folder, as the
// tutorial does: startproject, migrate (SQLite), and a superuser.
func djangoProject(t *testing.T, python string) (dir, user, password string) {
	t.Helper()
	dir, user, password = t.TempDir(), "admin", "a-long-test-password"
	started := time.Now()
	for _, args := range [][]string{
		{"-m", "django", "startproject", "mysite", dir},
		{filepath.Join(dir, "manage.py"), "migrate", "--noinput"},
		{filepath.Join(dir, "manage.py"), "createsuperuser", "--noinput", "--username", user, "--email", "admin@example.com"},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), subprocessDeadline)
		cmd := exec.CommandContext(ctx, python, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DJANGO_SUPERUSER_PASSWORD="+password)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", python, strings.Join(args, " "), err, out)
		}
	}
	t.Logf("the Django project took %v to create, migrate and get its superuser", time.Since(started).Round(time.Millisecond))
	return dir, user, password
}

func TestDjango(t *testing.T) {
	python := pythonImporting(t, "django", "python3-django")
	dir, user, password := djangoProject(t, python)
	logs := &lockedBuffer{}
	started := time.Now()
	base := servePool(t, poolConfig{python: python, dir: dir, app: "mysite.wsgi:application"}, logs)
	t.Logf("2 workers imported the project in %v", time.Since(started).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log:\n%s", logs.String())
		}
	})

	t.Run("welcome page", func(t *testing.T) {
		resp, body := getURL(t, base+"/")
		if resp.StatusCode != 200 || !strings.Contains(body, "The install worked successfully! Congratulations!") {
			t.Errorf("GET / = %d, want 200 and the new project's welcome page; body %q", resp.StatusCode, clipForLog(body))
		}
	})
	t.Run("ALLOWED_HOSTS", func(t *testing.T) {
		// A new project has DEBUG = True and ALLOWED_HOSTS = []: Django
		// then allows localhost, 127.0.0.1 and [::1] and refuses any other
		// Host with a 400, which it reads from HTTP_HOST.
		for host, want := range map[string]int{"127.0.0.1": 200, "localhost:8082": 200, "evil.example": 400} {
			req := newRequest(t, "GET", base+"/", nil)
			req.Host = host
			if resp, body := fetch(t, req); resp.StatusCode != want {
				t.Errorf("GET / with Host %s = %d, want %d; body %q", host, resp.StatusCode, want, clipForLog(body))
			}
		}
	})
	t.Run("admin login", func(t *testing.T) {
		resp, page := getURL(t, base+"/admin/login/?next=/admin/")
		var cookie string
		for _, c := range resp.Cookies() {
			if c.Name == "csrftoken" {
				cookie = c.Value
			}
		}
		m := regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`).FindStringSubmatch(page)
		if resp.StatusCode != 200 || cookie == "" || m == nil {
			t.Fatalf("GET /admin/login/ = %d, csrftoken cookie %q, form token found: %v; want 200, a cookie and a token in the form", resp.StatusCode, cookie, m != nil)
		}
		login := func(form url.Values) *http.Response {
			req := newRequest(t, "POST", base+"/admin/login/?next=/admin/", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "csrftoken", Value: cookie})
			resp, _ := fetch(t, req)
			return resp
		}
		form := url.Values{"username": {user}, "password": {password}, "next": {"/admin/"}}

		resp = login(form) // no csrfmiddlewaretoken
		if resp.StatusCode != 403 {
			t.Errorf("login POST without the form's CSRF token = %d, want 403", resp.StatusCode)
		}

		form.Set("csrfmiddlewaretoken", m[1])
		form.Set("password", "wrong")
		resp = login(form)
		if resp.StatusCode != 200 {
			t.Errorf("login POST with a wrong password = %d, want 200 (the form again, with an error)", resp.StatusCode)
		}

		form.Set("password", password)
		resp = login(form)
		var session string
		for _, c := range resp.Cookies() {
			if c.Name == "sessionid" {
				session = c.Value
			}
		}
		if resp.StatusCode != 302 || resp.Header.Get("Location") != "/admin/" || session == "" {
			t.Fatalf("login POST = %d, Location %q, sessionid %q; want 302 to /admin/ with a session", resp.StatusCode, resp.Header.Get("Location"), session)
		}
		req := newRequest(t, "GET", base+"/admin/", nil)
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: session})
		resp, page = fetch(t, req)
		if resp.StatusCode != 200 || !strings.Contains(page, "Site administration") {
			t.Errorf("GET /admin/ with the session = %d, want 200 and the admin index; body %q", resp.StatusCode, clipForLog(page))
		}
	})
}

// validatorExclusions are the step's transcripts that the course's app
// cannot pass inside wsgiref.validate.validator, because the validator is
// stricter than PEP 3333 and HTTP there, and the complaint each one must
// still raise (an exclusion that no longer fails shows up, and can go).
var validatorExclusions = map[string]string{
	// The echo reads a chunked body with read() and no size, which PEP 3333
	// allows (a server must end wsgi.input at the body's end, and this one
	// does) but the validator's InputWrapper.read refuses: it asserts one
	// argument. The app catches the AssertionError and says "reading it
	// failed"; in the reject-* ones the body is never read, so the server
	// never finds the broken chunk the golden 400 is about.
	"environ-chunked-with-trailer": "reading it failed: \n",
	"reject-bad-chunk-size":        "reading it failed: \n",
	"reject-bad-chunk-size-json":   "reading it failed: \n",
	// OPTIONS * (RFC 9112's asterisk-form) has PATH_INFO "*", which PEP 3333
	// does not forbid; the validator asserts PATH_INFO starts with "/".
	"options-asterisk": "AssertionError: PATH_INFO doesn't start with /: '*'",
	// Methods are an open set (RFC 9110 §9.1); the validator warns about
	// any but eight, and validated.py makes its warnings errors.
	"accept-any-method": "WSGIWarning: Unknown REQUEST_METHOD: 'BREW'",
}

// validatorComplaints are the lines of a log that show the validator
// complaining. A traceback is one too, unless it is one of the demo's own
// failures on purpose (the error-* transcripts).
func validatorComplaints(log string) []string {
	var found []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "AssertionError") || strings.Contains(line, "WSGIWarning") || strings.Contains(line, "without being closed") {
			found = append(found, line)
		}
	}
	if strings.Count(log, "Traceback") > strings.Count(log, "RuntimeError: the demo app failed") {
		found = append(found, "a traceback that is not one of the demo's failures on purpose")
	}
	return found
}

// unwrapValidatorTypes undoes the one change the validator makes to what
// the client sees: the environ echo names wsgi.input's and wsgi.errors'
// types, and inside the validator they are its wrappers. The body gets
// the worker's own types back and Content-Length its new length.
func unwrapValidatorTypes(response []byte) []byte {
	at := bytes.Index(response, []byte("wsgiref.validate."))
	end := bytes.LastIndex(response[:max(at, 0)], []byte("\r\n\r\n")) // the head before it, after any 100 Continue
	if at < 0 || end < 0 {
		return response
	}
	head, body := response[:end], response[end+4:]
	body = bytes.ReplaceAll(body, []byte("wsgiref.validate.InputWrapper"), []byte("__main__.InputStream"))
	body = bytes.ReplaceAll(body, []byte("wsgiref.validate.ErrorWrapper"), []byte("__main__.ErrorStream"))
	head = regexp.MustCompile(`(?m)^Content-Length: \d+`).ReplaceAll(head, fmt.Appendf(nil, "Content-Length: %d", len(body)))
	return slices.Concat(head, []byte("\r\n\r\n"), body)
}

// TestValidatedAppReplaysTranscripts runs the course's app inside
// wsgiref.validate.validator (testdata/validated) and replays the step's
// transcripts through it: every answer must be the golden one, byte for
// byte, and nothing in the server's log (wsgi.errors) or the workers'
// stderr may show the validator complaining.
func TestValidatedAppReplaysTranscripts(t *testing.T) {
	stderr := filepath.Join(t.TempDir(), "workers-stderr.log")
	t.Setenv("VALIDATED_STDERR", stderr) // validated.py sends the workers' stderr there
	pool := ownPool(t, poolConfig{dir: filepath.Join("testdata", "validated"), app: "validated:app",
		workers: 2, queue: 64, timeout: subprocessDeadline}) // its log (worker restarts) goes to the test's
	logs := &lockedBuffer{} // wsgi.errors: the app's lines and the tracebacks of what it raised
	newServer := func() *Server {
		srv := &Server{Errors: logs, HeaderTimeout: time.Hour, BodyTimeout: time.Hour}
		app := withMiddleware(withHealthz(pool.App, srv.ShuttingDown, pool.Ready), nil, false, fixedID)
		srv.App = func(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
			environ["SERVER_PORT"] = "8082" // as pythonDemo: the goldens name the default port
			return app(environ, startResponse)
		}
		return srv
	}
	all, err := transcript.LoadDir(filepath.Join("testdata", "transcripts"))
	if err != nil {
		t.Fatal(err)
	}
	plainAddr := transcript.Start(t, newServer().Serve)
	replayed := 0
	for _, tr := range all {
		t.Run(tr.Name, func(t *testing.T) {
			addr := serverFor(t, tr, plainAddr, newServer)
			before := len(logs.String())
			got, err := transcript.Replay(addr, tr)
			if err != nil {
				t.Fatalf("%s: %v", tr.Path, err)
			}
			logged := logs.String()[before:]
			if complaint, excluded := validatorExclusions[tr.Name]; excluded {
				if !strings.Contains(logged+string(bytes.Join(got, nil)), complaint) {
					t.Errorf("excluded because the validator complains %q, but it no longer does: drop the exclusion\nlog:\n%s", complaint, logged)
				}
				return
			}
			replayed++
			for i := range got {
				got[i] = unwrapValidatorTypes(got[i])
			}
			transcript.Compare(t, tr, got, "127.0.0.1:8082")
			if complaints := validatorComplaints(logged); len(complaints) > 0 {
				t.Errorf("the validator complained while %s was replayed:\n  %s\nthe log:\n%s", tr.Name, strings.Join(complaints, "\n  "), logged)
			}
		})
	}
	// The workers' stderr is where the validator reports an iterator that
	// was never closed (it cannot raise from __del__); it must stay empty
	// of complaints. Stop the workers first so all they wrote is there.
	pool.Stop(10 * time.Second)
	data, err := os.ReadFile(stderr)
	if err != nil {
		t.Fatalf("validated.py did not open its stderr file: %v", err)
	}
	if complaints := validatorComplaints(string(data)); len(complaints) > 0 {
		t.Errorf("the workers' stderr shows the validator complaining:\n  %s\nall of it:\n%s", strings.Join(complaints, "\n  "), data)
	}
	t.Logf("%d transcripts replayed through wsgiref.validate.validator with no complaint; %d excluded", replayed, len(validatorExclusions))
}
