//go:build exercise

package exercise

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/wsgicourse/step05-start-response/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// file is what a response to /file says.
type file struct {
	Status int
	Body   string
}

func TestFileWrapper(t *testing.T) {
	path := filepath.Join(t.TempDir(), "served.bin")
	content := strings.Repeat("0123456789abcdef", 10<<10) // 160 KiB: many blocks
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-file", path)
	conn := check.Dial(t, addr)

	// PEP 3333: the server offers the extension in the environ.
	r := conn.Get("/")
	r.Expect(t, "GET / (the environ echo) lists wsgi.file_wrapper", true,
		strings.Contains(string(r.Body), "\nwsgi.file_wrapper = "))

	r = conn.Get("/file")
	r.Expect(t, "GET /file: the whole file", file{200, content}, file{r.Status, string(r.Body)})
	// The same connection, and the file opened again.
	r = conn.Get("/file")
	r.Expect(t, "GET /file again, on the same connection", file{200, content}, file{r.Status, string(r.Body)})

	r = conn.Send(conn.Request("HEAD", "/file"))
	r.Expect(t, "HEAD /file: the headers GET gets, no body", file{200, ""}, file{r.Status, string(r.Body)})

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r = conn.Get("/file")
	r.Expect(t, "GET /file once the file is gone: a 404", 404, r.Status)
}
