//go:build exercise

package exercise

import (
	"testing"

	"example.com/wsgicourse/step01-hello/exercises/internal/check"
	"example.com/wsgicourse/transcript"
)

// The greeting names whoever ?name= says, decoded as a form value would
// be; no name, or an empty one, keeps "world".
func TestGreetByName(t *testing.T) {
	addr := transcript.StartStep(t, "../..", "-addr", "127.0.0.1:0")
	type answer struct {
		Status int
		Body   string
	}
	for _, tt := range []struct{ target, want string }{
		{"/?name=Ada", "Hello, Ada!\n"},
		{"/?name=Ada%20Lovelace", "Hello, Ada Lovelace!\n"},
		{"/?name=Grace+Hopper", "Hello, Grace Hopper!\n"},
		{"/?lang=en&name=Linus", "Hello, Linus!\n"},
		{"/", "Hello, world!\n"},
		{"/?name=", "Hello, world!\n"},
	} {
		r := check.Dial(t, addr).Get(tt.target)
		r.Validate()
		r.Expect("GET "+tt.target, answer{200, tt.want}, answer{r.Status, string(r.Body)})
	}
}
