//go:build exercise

package exercise

import (
	"strings"
	"testing"

	"example.com/wsgicourse/step03-parse/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// The description of a request keeps every field line, but never the
// value of one that carries a credential, whatever the case of its name.
func TestRedactSecrets(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	secrets := []struct{ name, value string }{
		{"Authorization", "Basic YWRhOmxvdmVsYWNl"},
		{"cookie", "session=s3cr3t-c00kie"},
		{"PROXY-AUTHORIZATION", "Bearer t0ken-f0r-the-pr0xy"},
	}
	request := "GET /account HTTP/1.1\r\nHost: " + addr + "\r\n"
	for _, s := range secrets {
		request += s.name + ": " + s.value + "\r\n"
	}
	request += "X-Visible: yes\r\n\r\n"
	r := check.Dial(t, addr).Send(request)
	r.Expect("the status", 200, r.Status)

	lines := strings.Split(string(r.Body), "\n")
	type line struct {
		Present   bool // a "header <name>: ..." line is in the body
		ValueSeen bool // the secret value shows anywhere in the body
	}
	for _, s := range secrets {
		present := false
		for _, l := range lines {
			present = present || strings.HasPrefix(l, "header "+s.name+":")
		}
		r.Expect("the line for "+s.name, line{true, false},
			line{present, strings.Contains(string(r.Body), s.value)})
	}
	// Everything else is described as before.
	for _, want := range []string{"method: GET", "target: /account", "header Host: " + addr, "header X-Visible: yes"} {
		present := false
		for _, l := range lines {
			present = present || l == want
		}
		r.Expect("the line "+want, true, present)
	}
}
