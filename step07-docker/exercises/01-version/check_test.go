//go:build exercise

package exercise

import (
	"encoding/json"
	"testing"

	"example.com/wsgicourse/step07-docker/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// version is what an answer to /version says.
type version struct {
	Status      int
	ContentType string
	Version     string // the "version" member of the JSON object
}

func read(r *check.Response) version {
	var body struct{ Version string }
	json.Unmarshal(r.Body, &body)
	return version{r.Status, r.Header.Get("Content-Type"), body.Version}
}

func TestVersion(t *testing.T) {
	t.Setenv("APP_VERSION", "1.4.2-rc.1") // the step is started with this environment
	conn := check.Dial(t, transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0"))
	r := conn.Get("/version")
	r.Expect(t, "GET /version, with APP_VERSION=1.4.2-rc.1", version{200, "application/json", "1.4.2-rc.1"}, read(r))

	r = conn.Send(conn.Request("HEAD", "/version"))
	r.Expect(t, "HEAD /version: the headers GET gets, no body", version{200, "application/json", ""}, read(r))

	t.Setenv("APP_VERSION", "") // set, but empty: as good as unset
	conn = check.Dial(t, transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0"))
	r = conn.Get("/version")
	r.Expect(t, "GET /version, with no APP_VERSION", version{200, "application/json", "dev"}, read(r))
}
