package main

import (
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// echoEnviron is the demo app. Like wsgiref's demo_app it answers with
// every environ key, sorted, one per line, so you can see exactly what an
// application receives; then it reads the whole body from wsgi.input and
// says how long it was.
func echoEnviron(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	body, err := io.ReadAll(environ["wsgi.input"].(io.Reader))
	var out strings.Builder
	for _, key := range slices.Sorted(maps.Keys(environ)) {
		fmt.Fprintf(&out, "%s = %s\n", key, show(environ[key]))
	}
	fmt.Fprintf(&out, "body: %d bytes read from wsgi.input\n", len(body))
	if err != nil {
		fmt.Fprintf(&out, "reading it failed: %v\n", err)
	}
	startResponse("200 OK", []Header{{"Content-Type", "text/plain; charset=utf-8"}}, nil)
	return func(yield func([]byte) bool) {
		yield([]byte(out.String()))
	}
}

// show writes one environ value the way Go source would. A string is
// quoted with every rune past ASCII as \u00XX, so the Latin-1 runes of a
// CGI value stay visible: /caf%C3%A9 gives PATH_INFO "/caf\u00c3\u00a9",
// two runes for the two bytes of a UTF-8 é. A stream shows its Go type.
func show(value any) string {
	switch v := value.(type) {
	case string:
		return strconv.QuoteToASCII(v)
	case io.Reader, io.Writer:
		return fmt.Sprintf("%T", v)
	default:
		return fmt.Sprint(v)
	}
}
