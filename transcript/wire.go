package transcript

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// readResponse reads one response off the wire, with any 1xx interim
// responses (100 Continue) that come before it, and returns its bytes with
// each Date value replaced by <DATE>: the only thing allowed to vary.
// It frames the body the way a client must (RFC 9112 §6.3): none for HEAD,
// 1xx, 204 and 304; chunked; Content-Length; otherwise until the close.
// A connection closed before any byte gives an empty response.
func readResponse(br *bufio.Reader, method string) ([]byte, error) {
	var out bytes.Buffer
	for {
		head, code, err := readHead(br)
		out.Write(head)
		if err != nil || code == 0 {
			// Not a response we can frame: keep whatever comes until the
			// close, so the comparison shows it.
			rest, _ := io.ReadAll(br)
			out.Write(rest)
			return out.Bytes(), ignoreEOF(err)
		}
		if code >= 100 && code < 200 && code != 101 {
			continue // an interim response; the final one follows
		}
		body, err := readBody(br, method, code, head)
		out.Write(body)
		return out.Bytes(), err
	}
}

// readHead reads a status line and header lines up to the blank line,
// normalising Date. code is 0 when the status line is not HTTP.
func readHead(br *bufio.Reader) (head []byte, code int, err error) {
	var out bytes.Buffer
	for first := true; ; first = false {
		line, err := br.ReadBytes('\n')
		if first && len(line) > 0 {
			code = statusCode(line)
		}
		if err != nil {
			out.Write(line)
			return out.Bytes(), 0, err
		}
		if !first && hasPrefixFold(line, "Date:") {
			line = []byte("Date: <DATE>" + lineEnd(line))
		}
		out.Write(line)
		if first && code == 0 {
			return out.Bytes(), 0, nil
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return out.Bytes(), code, nil
		}
	}
}

func readBody(br *bufio.Reader, method string, code int, head []byte) ([]byte, error) {
	if method == "HEAD" || code == 204 || code == 304 {
		return nil, nil
	}
	if te := headerValue(head, "Transfer-Encoding"); strings.EqualFold(te, "chunked") {
		return readChunked(br)
	}
	if cl := headerValue(head, "Content-Length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err == nil && n >= 0 {
			body := make([]byte, n)
			m, err := io.ReadFull(br, body)
			return body[:m], ignoreEOF(err)
		}
	}
	body, err := io.ReadAll(br)
	return body, err
}

// readChunked copies a chunked body verbatim, chunk-size lines, trailers
// and all: the transcript shows the framing, not just the payload.
func readChunked(br *bufio.Reader) ([]byte, error) {
	var out bytes.Buffer
	for {
		line, err := br.ReadBytes('\n')
		out.Write(line)
		if err != nil {
			return out.Bytes(), ignoreEOF(err)
		}
		sizeText, _, _ := strings.Cut(strings.TrimSpace(string(line)), ";")
		size, err := strconv.ParseInt(sizeText, 16, 64)
		if err != nil || size < 0 || size > 1<<30 {
			rest, _ := io.ReadAll(br)
			out.Write(rest)
			return out.Bytes(), nil
		}
		if size == 0 {
			for { // trailer lines, then the blank line
				line, err := br.ReadBytes('\n')
				out.Write(line)
				if err != nil || len(bytes.TrimRight(line, "\r\n")) == 0 {
					return out.Bytes(), ignoreEOF(err)
				}
			}
		}
		if _, err := io.CopyN(&out, br, size+2); err != nil { // data and its CRLF
			return out.Bytes(), ignoreEOF(err)
		}
	}
}

func statusCode(line []byte) int {
	s := string(line)
	if !strings.HasPrefix(s, "HTTP/") || len(s) < 12 || s[8] != ' ' {
		return 0
	}
	code, err := strconv.Atoi(s[9:12])
	if err != nil {
		return 0
	}
	return code
}

// headerValue finds a header in a raw head; good enough for framing.
func headerValue(head []byte, name string) string {
	for _, line := range strings.Split(string(head), "\n") {
		if hasPrefixFold([]byte(line), name+":") {
			return strings.TrimSpace(line[len(name)+1:])
		}
	}
	return ""
}

func hasPrefixFold(line []byte, prefix string) bool {
	return len(line) >= len(prefix) && strings.EqualFold(string(line[:len(prefix)]), prefix)
}

func lineEnd(line []byte) string {
	if bytes.HasSuffix(line, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}
