//go:build exercise

package exercise

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"example.com/wsgicourse/step06-framework/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

const secret = "the secret next to the static folder\n"

// files makes a folder to serve, public/, and beside it a file that must
// never be served, with a link to it inside public/.
func files(t *testing.T) (public string) {
	root := t.TempDir()
	public = filepath.Join(root, "public")
	for name, content := range map[string]string{
		"secret.txt":            secret,
		"public/hello.txt":      "hello from a file\n",
		"public/page.html":      "<h1>a page</h1>\n",
		"public/sub/deeper.txt": "one folder down\n",
		"public/big.bin":        strings.Repeat("0123456789abcdef", 10<<10), // 160 KiB: more than one read
	} {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../secret.txt", filepath.Join(public, "link.txt")); err != nil {
		t.Fatal(err)
	}
	return public
}

// served is what a response to a file's URL says.
type served struct {
	Status   int
	TypeFits bool   // Content-Type is of the file's kind (any, for a file of no known kind)
	Length   string // Content-Length
	Body     string
}

func TestStaticFiles(t *testing.T) {
	public := files(t)
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0", "-static", public)
	conn := check.Dial(t, addr)

	for _, c := range []struct{ target, file, contentType string }{
		{"/static/hello.txt", "hello.txt", "text/plain"},
		{"/static/page.html", "page.html", "text/html"},
		{"/static/sub/deeper.txt", "sub/deeper.txt", "text/plain"},
		{"/static/big.bin", "big.bin", ""},
	} {
		content, _ := os.ReadFile(filepath.Join(public, c.file))
		r := conn.Get(c.target)
		contentType := r.Header.Get("Content-Type")
		r.Expect(t, "GET "+c.target+" (the file "+c.file+"; Content-Type "+strconv.Quote(contentType)+")",
			served{200, true, strconv.Itoa(len(content)), string(content)},
			served{r.Status, contentType != "" && strings.HasPrefix(contentType, c.contentType), r.Header.Get("Content-Length"), string(r.Body)})
	}

	r := conn.Send(conn.Request("HEAD", "/static/hello.txt"))
	r.Expect(t, "HEAD /static/hello.txt: the headers GET gets, no body",
		served{200, true, "18", ""},
		served{r.Status, strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain"), r.Header.Get("Content-Length"), string(r.Body)})

	r = conn.Get("/static/missing.txt")
	r.Expect(t, "GET /static/missing.txt: no such file", 404, r.Status)

	// Every way out of the folder is refused, with a 4xx and not a byte
	// of the secret.
	for _, target := range []string{
		"/static/../secret.txt",
		"/static/%2e%2e/secret.txt",
		"/static/..%2fsecret.txt",
		"/static/sub/..%2f..%2fsecret.txt",
		"/static/sub/%2e%2e/%2e%2e/secret.txt",
		"/static/link.txt", // a link inside the folder to the file outside
	} {
		r := check.Dial(t, addr).Get(target)
		r.Expect(t, "GET "+target+": outside the folder", struct {
			Refused      bool // a 4xx
			ShowsASecret bool
		}{true, false}, struct {
			Refused      bool
			ShowsASecret bool
		}{r.Status >= 400 && r.Status < 500, strings.Contains(string(r.Body), strings.TrimSpace(secret))})
	}
}
