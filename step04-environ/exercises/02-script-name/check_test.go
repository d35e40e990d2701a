//go:build exercise

package exercise

import (
	"testing"

	"example.com/wsgicourse/step04-environ/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// With -script-name /app the app is mounted at /app: SCRIPT_NAME is the
// mount point, PATH_INFO what follows it, and a path outside it is 404.
func TestScriptName(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-script-name", "/app")
	type mounted struct {
		Status                            string
		ScriptName, PathInfo, QueryString string
	}
	for _, tt := range []struct {
		target string
		want   mounted
	}{
		{"/app/hello?x=1", mounted{"200 OK", "/app", "/hello", "x=1"}},
		{"/app/a/b/", mounted{"200 OK", "/app", "/a/b/", ""}},
		{"/app/", mounted{"200 OK", "/app", "/", ""}},
		{"/app", mounted{"200 OK", "/app", "", ""}},
		{"/app?x=1", mounted{"200 OK", "/app", "", "x=1"}},
	} {
		r := check.Dial(t, addr).Get(tt.target)
		env := check.Environ(r.Body)
		r.Expect("GET "+tt.target, tt.want, mounted{r.StatusText, env["SCRIPT_NAME"], env["PATH_INFO"], env["QUERY_STRING"]})
	}

	type refused struct {
		Status  string
		OneLine bool // a one-line reason, not the environ
	}
	// /application starts with the letters of /app, not with its segment.
	for _, target := range []string{"/", "/application", "/other/app", "/ap"} {
		r := check.Dial(t, addr).Get(target)
		r.Expect("GET "+target+", outside /app", refused{"404 Not Found", true}, refused{r.StatusText, r.OneLine()})
	}
}
