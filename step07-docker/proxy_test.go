package main

// step07 behind Debian's nginx, the way such a server is usually run: two
// setups, the plain `proxy_pass` (nginx speaks HTTP/1.0 to the upstream
// and closes after each request) and `proxy_http_version 1.1` with an
// upstream keepalive pool. Each runs its own nginx from a temporary
// prefix, on loopback.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// proxySetup is one of the README's two nginx blocks: the directives of
// its upstream block besides the server line, and of its location block.
type proxySetup struct {
	name, upstreamExtra, location string
	http11                        bool
}

// proxySetups are the README's blocks, read from it, so that what the
// tests run is what the README shows.
func proxySetups(t *testing.T) []proxySetup {
	return []proxySetup{
		readmeNginx(t, "proxy_pass", "nginx-plain", false),
		readmeNginx(t, "proxy_http_version 1.1 keepalive", "nginx-keepalive", true),
	}
}

// readmeNginx reads the README's nginx block NAME (<!-- checked: NAME -->).
func readmeNginx(t *testing.T, setup, name string, http11 bool) proxySetup {
	t.Helper()
	var upstream, location []string
	var in *[]string // the block whose directives the line belongs to
	for _, line := range readmeBlock(t, name) {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "upstream step07 {"):
			in = &upstream
			if strings.HasSuffix(line, "}") { // upstream step07 { server …; }
				in = nil
			}
		case strings.HasPrefix(line, "location / {"):
			in = &location
		case line == "}":
			in = nil
		case in != nil && line != "" && !strings.HasPrefix(line, "server "):
			*in = append(*in, line)
		}
	}
	if len(location) == 0 {
		t.Fatalf("README.md's block %s has no location / { … }", name)
	}
	return proxySetup{setup, strings.Join(upstream, "\n        "), strings.Join(location, "\n            "), http11}
}

// nginxConf is a whole nginx configuration that keeps every file nginx
// writes (pid, logs, temporary bodies) in dir.
func nginxConf(dir, listen, upstream, upstreamExtra, location string) string {
	return fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    upstream step07 {
        server %[3]s;
        %[4]s
    }
    server {
        listen %[2]s;
        # $host falls back to it for a client that sent no Host (HTTP/1.0):
        # step07 refuses an HTTP/1.1 request without one.
        server_name localhost;
        # For the test's client, not for production: the transcripts'
        # client half-closes after its last request (as printf | nc does),
        # which nginx takes for a client that gave up (499) unless told.
        proxy_ignore_client_abort on;
        location / {
            %[5]s
        }
    }
}
`, dir, listen, upstream, upstreamExtra, location)
}

// startNginx runs nginx in front of upstream until the test ends and
// returns the address it listens on.
func startNginx(t *testing.T, upstream, upstreamExtra, location string) string {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nginx"); statErr != nil {
			requirePeer(t, "no nginx (Debian: apt-get install nginx-light)")
		}
		bin = "/usr/sbin/nginx"
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // nginx's worker runs as nobody and keeps its temporary files here
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := free.Addr().String()
	free.Close() // nginx takes it over at once; another taker would fail the start below
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConf(dir, listen, upstream, upstreamExtra, location)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // nginx's fast shutdown (SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", log)
		}
	})
	for range 200 { // 10 s for nginx to listen
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s%s", err, stderr.Bytes(), log)
		default:
		}
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return listen
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nginx did not listen on %s within 10 s", listen)
	return ""
}

// countingListener counts the connections the upstream accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// behindNginx is an upstream step07 with its accept counter.
func behindNginx(t *testing.T) (addr string, counter *countingListener) {
	srv := newServer(time.Hour)
	counter = &countingListener{}
	addr = transcript.Start(t, func(ln net.Listener) error {
		counter.Listener = ln
		return srv.Serve(counter)
	})
	return addr, counter
}

// throughAProxy says which transcripts mean the same through nginx: those
// whose requests a proxy passes on as they are. Not a request nginx
// answers itself: a malformed one (reject-*, and anything Go's own parser
// cannot read, such as garbage, a cut head or a list-form Content-Length),
// one that says Expect: 100-continue, or OPTIONS * (nginx answers 400 to
// any target that is not a path). Not a chunked body, which nginx
// passes on de-chunked with a Content-Length, so the environ differs. Not
// error-after-headers: its point is a response cut short, and behind an
// HTTP/1.0 upstream connection a cut is indistinguishable from the end of
// a close-delimited body. Not echo-body-too-large: its client announces a
// body it never sends, and nginx waits for a request's whole body before
// it passes the request on. Nor the transcripts that need a server of
// their own (over-cap-*, shutdown-*).
func throughAProxy(tr *transcript.Transcript) bool {
	if strings.HasPrefix(tr.Name, "reject-") || tr.Name == "error-after-headers" ||
		tr.Name == "echo-body-too-large" || needsItsOwnServer(tr) {
		return false
	}
	for _, ex := range tr.Exchanges {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(ex.Request)))
		if err != nil || req.TransferEncoding != nil || req.Header.Get("Expect") != "" || req.RequestURI == "*" {
			return false
		}
	}
	return true
}

func TestTranscriptsBehindNginx(t *testing.T) {
	all, err := transcript.LoadDir(filepath.Join("testdata", "transcripts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, setup := range proxySetups(t) {
		t.Run(setup.name, func(t *testing.T) {
			upstream, _ := behindNginx(t)
			proxy := startNginx(t, upstream, setup.upstreamExtra, setup.location)
			for _, tr := range all {
				if !throughAProxy(tr) {
					continue
				}
				t.Run(tr.Name, func(t *testing.T) {
					got, err := transcript.Replay(proxy, tr)
					if err != nil {
						t.Errorf("%s: %v", tr.Path, err)
					}
					for i, ex := range tr.Exchanges {
						var resp []byte
						if i < len(got) {
							resp = got[i]
						}
						for _, p := range sameMeaning(ex.Request, ex.Response, resp) {
							t.Errorf("%s, response %d: %s", tr.Path, i+1, p)
						}
					}
				})
			}
		})
	}
}

// sameMeaning compares a golden response with one that came through a
// proxy: the status, Content-Type and Cache-Control, and the body once
// de-chunked. nginx reframes (its own Server, Date, Connection, chunked or
// not), and those are not compared. An environ echo differs by design
// (TestEnvironBehindNginx checks how), so only its first line is.
func sameMeaning(request, want, got []byte) []string {
	wants, err := readResponses(request, want)
	if err != nil {
		return []string{fmt.Sprintf("the golden response does not parse: %v", err)}
	}
	gots, err := readResponses(request, got)
	if err != nil {
		return []string{fmt.Sprintf("the response through nginx does not parse: %v\n%q", err, got)}
	}
	if len(wants) != len(gots) {
		return []string{fmt.Sprintf("%d responses through nginx, want %d:\n%q", len(gots), len(wants), got)}
	}
	var problems []string
	for i, w := range wants {
		g := gots[i]
		if w.status != g.status {
			problems = append(problems, fmt.Sprintf("status %d, want %d", g.status, w.status))
		}
		for _, h := range []string{"Content-Type", "Cache-Control"} {
			if w.header.Get(h) != g.header.Get(h) {
				problems = append(problems, fmt.Sprintf("%s: %q, want %q", h, g.header.Get(h), w.header.Get(h)))
			}
		}
		wb, gb := w.body, g.body
		if bytes.Contains(wb, []byte("\nREQUEST_METHOD = ")) {
			wb, gb = firstLine(wb), firstLine(gb)
		}
		if !bytes.Equal(wb, gb) {
			problems = append(problems, fmt.Sprintf("body %q, want %q", gb, wb))
		}
	}
	return problems
}

type parsedResponse struct {
	status int
	header http.Header
	body   []byte
}

// readResponses parses every response in wire (pipelined requests get
// several), reading each body the way the request's method says.
func readResponses(request, wire []byte) ([]parsedResponse, error) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(request)))
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(bytes.NewReader(wire))
	var out []parsedResponse
	for {
		if _, err := br.Peek(1); err != nil {
			return out, nil
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return out, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return out, err
		}
		out = append(out, parsedResponse{resp.StatusCode, resp.Header, body})
	}
}

func firstLine(b []byte) []byte {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return line
}

// TestEnvironBehindNginx shows what the app sees behind a proxy: the
// proxy's address as REMOTE_ADDR, the client's (and whatever the client
// claimed) in X-Forwarded-For, and the protocol nginx speaks upstream.
func TestEnvironBehindNginx(t *testing.T) {
	for _, setup := range proxySetups(t) {
		t.Run(setup.name, func(t *testing.T) {
			upstream, counter := behindNginx(t)
			proxy := startNginx(t, upstream, setup.upstreamExtra, setup.location)
			// A client that lies: an X-Forwarded-For of its own making.
			req := "GET /environ HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n"
			var body string
			for range 3 { // three clients, one after another
				got, err := exchange(proxy, req)
				if err != nil || !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") {
					t.Fatalf("through nginx: %q, %v", got, err)
				}
				body = got
			}
			protocol, connection := "HTTP/1.0", "HTTP_CONNECTION = \"close\"\n"
			if setup.http11 {
				protocol, connection = "HTTP/1.1", ""
			}
			for _, want := range []string{
				"REMOTE_ADDR = \"127.0.0.1\"\n",                       // nginx, not the client
				"HTTP_X_FORWARDED_FOR = \"203.0.113.7, 127.0.0.1\"\n", // the claim, then what nginx saw
				"HTTP_HOST = \"127.0.0.1\"\n",                         // $host: the host the client asked for, without the port
				"SERVER_PROTOCOL = \"" + protocol + "\"\n",            // what nginx speaks upstream
				"body: 0 bytes read from wsgi.input\n",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the environ behind nginx has no line %q:\n%s", want, body)
				}
			}
			if connection != "" && !strings.Contains(body, connection) {
				t.Errorf("the environ behind a plain proxy_pass has no line %q", connection)
			}
			if setup.http11 && strings.Contains(body, "HTTP_CONNECTION") {
				t.Errorf("with proxy_set_header Connection \"\", nginx still sent a Connection header:\n%s", body)
			}
			// Plain proxy_pass opens an upstream connection per request;
			// the keepalive pool reuses one.
			wantConns := int64(3)
			if setup.http11 {
				wantConns = 1
			}
			if n := counter.accepted.Load(); n != wantConns {
				t.Errorf("step07 accepted %d connections for 3 requests through nginx, want %d", n, wantConns)
			}
		})
	}
}

// TestNginxKeepAliveLosesNoPOST runs the README's keepalive block, its
// timeout below step07's as the README's is, but scaled down, and sends POSTs spaced about step07's idle timeout apart, so that
// many reach an upstream connection just when step07 would close it. With
// nginx's keepalive_timeout below the server's, as the README says, nginx
// closes first and no request is lost. With it above (nginx's default is
// 60s), some POSTs get a 502 from nginx, which does not send a POST again;
// STEP07_NGINX_KEEPALIVE_TIMEOUT=60s shows that (the test then fails with
// the count).
func TestNginxKeepAliveLosesNoPOST(t *testing.T) {
	// The thing under test: step07's idle timeout, and nginx's below it.
	// nginx's close would have to come 950 ms late for a POST to be lost,
	// a margin no scheduling delay of a busy machine eats up; the price is
	// a test of about 40 s.
	const idle, nginxIdle = time.Second, 50 * time.Millisecond
	const posts, clients = 300, 4 // clients: as many as the README's pool keeps
	setup := proxySetups(t)[1]
	readmeTimeout := regexp.MustCompile(`keepalive_timeout (\w+);`)
	m := readmeTimeout.FindStringSubmatch(setup.upstreamExtra)
	if m == nil {
		t.Fatalf("README.md's nginx-keepalive block sets no keepalive_timeout:\n%s", setup.upstreamExtra)
	}
	readmeIdle, err := time.ParseDuration(m[1])
	defaults, _ := parseArgs(nil, io.Discard, func(string) string { return "" })
	if err != nil || readmeIdle >= defaults.idle {
		t.Fatalf("README.md's keepalive_timeout %s must be below step07's -idle-timeout %s", m[1], defaults.idle)
	}
	readme, _ := os.ReadFile("README.md")
	for _, says := range []string{
		fmt.Sprintf("below step07's -idle-timeout (%s)", defaults.idle),
		fmt.Sprintf("idle timeout %d ms and nginx's %d ms, and sends %d POSTs from %d clients",
			idle.Milliseconds(), nginxIdle.Milliseconds(), posts, clients),
	} {
		if !strings.Contains(strings.Join(strings.Fields(string(readme)), " "), says) {
			t.Errorf("README.md does not say %q", says)
		}
	}
	scaled := fmt.Sprintf("keepalive_timeout %dms;", nginxIdle.Milliseconds())
	if other := os.Getenv("STEP07_NGINX_KEEPALIVE_TIMEOUT"); other != "" {
		scaled = "keepalive_timeout " + other + ";" // the README's demonstration
	}
	t.Logf("step07's idle timeout %s, nginx's %s", idle, scaled)

	srv := &Server{App: demo, Errors: io.Discard, IdleTimeout: idle,
		HeaderTimeout: time.Hour, BodyTimeout: time.Hour, WriteTimeout: time.Hour}
	upstream := transcript.Start(t, srv.Serve)
	proxy := startNginx(t, upstream, readmeTimeout.ReplaceAllString(setup.upstreamExtra, scaled), setup.location)

	// Each client keeps one connection to nginx. After every other answer
	// it waits about the idle timeout, from 5 ms less to 5 ms more, a
	// little more each time, so that those requests fall all around the
	// moment step07 closes an idle upstream connection; the others go at
	// once, on a connection in use.
	var lost atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			conn, err := net.Dial("tcp", proxy)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			for i := c; i < posts; i += clients {
				if i/clients%2 == 1 {
					time.Sleep(idle - 5*time.Millisecond + time.Duration(i)*10*time.Millisecond/posts)
				}
				body := fmt.Sprintf(`{"n":%d}`, i)
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprintf(conn, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Errorf("POST %d: %v", i, err)
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(got) != body {
					lost.Add(1)
					t.Logf("POST %d: %s %q", i, resp.Status, firstLine(got))
				}
			}
		})
	}
	wg.Wait()
	if n := lost.Load(); n > 0 {
		t.Errorf("%d of %d POSTs through nginx's keepalive pool were not answered 200 by step07", n, posts)
	}
}
