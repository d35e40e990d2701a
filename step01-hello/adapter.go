package main

import (
	"net"
	"net/http"
	"os"
	"strconv"
)

// wsgiHandler runs a WSGI app on Go's net/http, the way Python's
// wsgiref.simple_server runs one on http.server: net/http does the
// sockets and the parsing; this adapter only translates between the two
// shapes. Later steps replace net/http with a server of our own.
func wsgiHandler(app App) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		host, port, _ := net.SplitHostPort(local.String())
		environ := Environ{
			"REQUEST_METHOD":  r.Method,
			"SCRIPT_NAME":     "",
			"PATH_INFO":       r.URL.Path,
			"QUERY_STRING":    r.URL.RawQuery,
			"SERVER_NAME":     host,
			"SERVER_PORT":     port,
			"SERVER_PROTOCOL": r.Proto,
			"wsgi.version":    [2]int{1, 0},
			"wsgi.url_scheme": "http",
			"wsgi.input":      r.Body,
			"wsgi.errors":     os.Stderr,
		}

		// start_response only remembers the status and headers: they go
		// out with the first piece of body (PEP 3333), here net/http's job.
		// net/http sends its own reason phrase for the code ("404 Not
		// Found"), whatever text the app gave.
		code := http.StatusInternalServerError
		headerSent := false
		sendHeader := func() {
			if !headerSent {
				w.WriteHeader(code)
				headerSent = true
			}
		}
		startResponse := func(status string, headers []Header, excInfo error) Write {
			if n, err := strconv.Atoi(status[:min(3, len(status))]); err == nil {
				code = n
			}
			for _, h := range headers {
				w.Header().Add(h.Name, h.Value)
			}
			return func(data []byte) error {
				// The status first: net/http's Write alone would send 200 OK.
				sendHeader()
				_, err := w.Write(data)
				return err
			}
		}

		body := app(environ, startResponse)
		sendHeader()
		for chunk := range body {
			if _, err := w.Write(chunk); err != nil {
				return // the client went away; stopping the loop ends the app's body
			}
		}
	})
}
