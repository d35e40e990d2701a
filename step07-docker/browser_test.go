package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"example.com/wsgicourse/transcript"
)

// A real browser shows each page: headless Chromium loads it and prints
// the DOM it built, so the Content-Type, the charset and the escaping are
// checked by the program a learner uses, not by our own reading of them.
func TestBrowserShowsEachPage(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("COURSE_REQUIRE_PEERS") != "" {
			t.Fatal("chromium not found, and CI or COURSE_REQUIRE_PEERS is set, so the browser check may not be skipped")
		}
		t.Skip("chromium not found (Debian: apt-get install chromium); the browser check is skipped")
	}
	addr := transcript.Start(t, (&Server{App: demo, Errors: devNull(t), HeaderTimeout: time.Hour, BodyTimeout: time.Hour}).Serve)
	pages := []struct {
		path string
		want string // in the DOM the browser built
	}{
		{"/", ">Hello, World!</pre>"}, // a text/plain page: Chromium shows it in a <pre>
		{"/html", "<h1>Hello, World!</h1>"},
		{"/json", `{"message":"Hello, World!"}`},
		{"/hello/w%C3%B6rld%3Cb%3E", "<h1>Hello, wörld&lt;b&gt;!</h1>"}, // UTF-8 read as UTF-8, the <b> as text
		{"/html/", "<h1>Hello, World!</h1>"},                            // after the 308
		{"/nowhere", "<h1>404 Not Found</h1>"},
		{"/error-before", "<h1>500 Internal Server Error</h1>"},
	}
	for _, page := range pages {
		t.Run(page.path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir="+t.TempDir(), "--dump-dom", "http://"+addr+page.path)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			dom, err := cmd.Output()
			if err != nil || !strings.Contains(string(dom), page.want) {
				t.Errorf("chromium --dump-dom %s: %v\nDOM: %s\nwant it to contain %q\nstderr: %s", page.path, err, dom, page.want, clipForLog(stderr.String()))
			}
		})
	}
}
