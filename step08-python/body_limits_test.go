package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// Every bound on the request body is tested at the limit (accepted) and
// one past it (refused with its status), and every byte class of the
// chunked framing at both of its edges. The inputs are computed from the
// limit constants, so these tests follow the code if a limit changes.

// readWholeBody frames wire as the body of a request with fields and reads
// it to the end. code is the *statusError's code, 0 for a body read
// whole; err is any other error.
func readWholeBody(t *testing.T, fields []Field, wire string) (body string, trailers []Field, code int) {
	t.Helper()
	b, err := newBody(bodyRequest("", fields), bufio.NewReader(strings.NewReader(wire)), io.Discard)
	if err != nil {
		if bodyStatusCode(err) == 0 {
			t.Fatalf("newBody: %v; want a *statusError", err)
		}
		return "", nil, bodyStatusCode(err)
	}
	got, err := io.ReadAll(b)
	if err != nil && bodyStatusCode(err) == 0 {
		t.Fatalf("reading the body: %v; want a *statusError", err)
	}
	return string(got), b.Trailers, bodyStatusCode(err)
}

// trailerLines returns n trailer field lines, each with its CRLF, that
// add up to exactly size bytes.
func trailerLines(n, size int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		line := fmt.Sprintf("X-%d: ", i)
		pad := (size - b.Len()) / (n - i + 1) // share what is left among the lines to come
		b.WriteString(line + strings.Repeat("t", pad-len(line)-2) + "\r\n")
	}
	return b.String()
}

func TestBodyLimitsAtTheBoundary(t *testing.T) {
	full := strings.Repeat("z", maxBodyBytes)
	chunk := func(data string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(data), data) }
	sizeDigits := func(digits int) string { // "0…03", digits long, then its 3 bytes
		return strings.Repeat("0", digits-1) + "3\r\nabc\r\n0\r\n\r\n"
	}
	// A chunk-size line "3;eee…" of n bytes, CRLF included.
	sizeLine := func(n int) string { return "3;" + strings.Repeat("e", n-len("3;\r\n")) + "\r\nabc\r\n0\r\n\r\n" }
	// The trailer section counts every byte after "0\r\n": its field
	// lines with their CRLFs and the empty line that ends it.
	trailers := func(size int) string { return "0\r\n" + trailerLines(4, size-2) + "\r\n" }
	tests := []struct {
		name    string
		fields  []Field
		wire    string
		wantLen int
		want    int // the status; 0 when the whole body is read
	}{
		{"Content-Length at the limit", bodyFields("Content-Length", strconv.Itoa(maxBodyBytes)), full, maxBodyBytes, 0},
		{"Content-Length one over", bodyFields("Content-Length", strconv.Itoa(maxBodyBytes+1)), full + "z", 0, 413},
		{"chunked, one chunk at the limit", chunkedBodyFields, chunk(full) + "0\r\n\r\n", maxBodyBytes, 0},
		{"chunked, one chunk one over", chunkedBodyFields, chunk(full+"z") + "0\r\n\r\n", 0, 413},
		{"chunked, chunks adding up to the limit", chunkedBodyFields, chunk(full[1:]) + chunk("z") + "0\r\n\r\n", maxBodyBytes, 0},
		{"chunked, chunks adding up to one over", chunkedBodyFields, chunk(full) + chunk("z") + "0\r\n\r\n", maxBodyBytes, 413},
		{"chunk size with the most digits", chunkedBodyFields, sizeDigits(maxChunkSizeHex), 3, 0},
		{"chunk size with one digit too many", chunkedBodyFields, sizeDigits(maxChunkSizeHex + 1), 0, 400},
		{"chunk-size line at the limit", chunkedBodyFields, sizeLine(maxChunkLineBytes), 3, 0},
		{"chunk-size line one byte over", chunkedBodyFields, sizeLine(maxChunkLineBytes + 1), 0, 400},
		{"trailer fields at the limit", chunkedBodyFields, "0\r\n" + strings.Repeat("X-T: 1\r\n", maxTrailerFields) + "\r\n", 0, 0},
		{"trailer fields one over", chunkedBodyFields, "0\r\n" + strings.Repeat("X-T: 1\r\n", maxTrailerFields+1) + "\r\n", 0, 431},
		{"trailer section at the limit", chunkedBodyFields, trailers(maxTrailerBytes), 0, 0},
		{"trailer section one byte over", chunkedBodyFields, trailers(maxTrailerBytes + 1), 0, 431},
		{"one trailer line of the whole budget", chunkedBodyFields, "0\r\n" + trailerLines(1, maxTrailerBytes-2) + "\r\n", 0, 0},
		{"one trailer line one byte over", chunkedBodyFields, "0\r\n" + trailerLines(1, maxTrailerBytes-1) + "\r\n", 0, 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, code := readWholeBody(t, tt.fields, tt.wire)
			if len(body) != tt.wantLen || code != tt.want {
				t.Errorf("read %d bytes, status %d; want %d bytes, status %d (0: the whole body)", len(body), code, tt.wantLen, tt.want)
			}
		})
	}
}

func TestTrailerLinesAddUp(t *testing.T) {
	for _, n := range []int{1, 4} {
		if got := len(trailerLines(n, 1000)); got != 1000 {
			t.Errorf("trailerLines(%d, 1000) is %d bytes", n, got)
		}
	}
}

// Every byte value in a chunk size, a chunk extension, a trailer name and
// a trailer value. A control byte (0x00-0x1F but HTAB, and DEL) is refused
// anywhere in a chunk line; beyond that, a size is hex digits and a name a
// token.
func TestChunkLineBytes(t *testing.T) {
	const hex = "0123456789abcdefABCDEF"
	isControl := func(c int) bool { return c < 0x20 && c != '\t' || c == 0x7f }
	for c := 0; c <= 0xff; c++ {
		b := string([]byte{byte(c)})

		// A one-digit chunk size: the digit's value in bytes follows.
		size, wantSize := "", 400
		if strings.Contains(hex, b) {
			n, _ := strconv.ParseInt(b, 16, 64)
			size, wantSize = strings.Repeat("s", int(n)), 0
		}
		wire := b + "\r\n" + size + "\r\n0\r\n\r\n"
		if size == "" && wantSize == 0 { // "0": the last chunk itself
			wire = "0\r\n\r\n"
		}
		if got, _, code := readWholeBody(t, chunkedBodyFields, wire); code != wantSize || got != size {
			t.Errorf("chunk size %q: read %q, status %d; want %q, status %d", b, got, code, size, wantSize)
		}

		want := 0
		if isControl(c) {
			want = 400
		}
		if _, _, code := readWholeBody(t, chunkedBodyFields, "3;a"+b+"b\r\nabc\r\n0\r\n\r\n"); code != want {
			t.Errorf("chunk extension with byte 0x%02X: status %d; want %d (0: accepted)", c, code, want)
		}
		_, trailers, code := readWholeBody(t, chunkedBodyFields, "0\r\nX: a"+b+"b\r\n\r\n")
		if code != want || want == 0 && (len(trailers) != 1 || trailers[0].Value != "a"+b+"b") {
			t.Errorf("trailer value with byte 0x%02X: trailers %q, status %d; want %d (0: kept)", c, trailers, code, want)
		}

		if c == ':' {
			continue // ends the name
		}
		wantName := 400
		if strings.Contains(tchar, b) {
			wantName = 0
		}
		if _, _, code := readWholeBody(t, chunkedBodyFields, "0\r\nX"+b+"Y: 1\r\n\r\n"); code != wantName {
			t.Errorf("trailer name with byte 0x%02X: status %d; want %d (0: accepted)", c, code, wantName)
		}
	}
}

// The class edges by name: 0x1F/0x20 and 0x7E/0x7F, DEL in each kind of
// chunk line, and the bytes either side of each run of hex digits.
func TestChunkLineClassEdges(t *testing.T) {
	tests := []struct {
		name, wire string
		want       int
	}{
		{"DEL in the chunk size", "3\x7f\r\nabc\r\n0\r\n\r\n", 400},
		{"DEL in an extension", "3;a\x7f\r\nabc\r\n0\r\n\r\n", 400},
		{"DEL in a trailer value", "0\r\nX: a\x7f\r\n\r\n", 400},
		{"DEL in a trailer name", "0\r\nX\x7f: a\r\n\r\n", 400},
		{"DEL in the last chunk's extension", "0;\x7f\r\n\r\n", 400},
		{"0x1F in an extension", "3;a\x1f\r\nabc\r\n0\r\n\r\n", 400},
		{"0x20 in an extension", "3;a b\r\nabc\r\n0\r\n\r\n", 0},
		{"0x7E in an extension", "3;a~\r\nabc\r\n0\r\n\r\n", 0},
		{"0x1F in a trailer value", "0\r\nX: a\x1f\r\n\r\n", 400},
		{"0x7E in a trailer value", "0\r\nX: a~\r\n\r\n", 0},
		{"whitespace after the size, before ';'", "3 \t;x\r\nabc\r\n0\r\n\r\n", 0},
		{"whitespace before the size, with an extension", " 3;x\r\nabc\r\n0\r\n\r\n", 400},
		{"'/' below '0'", "/\r\n\r\n0\r\n\r\n", 400},
		{"':' above '9'", ":\r\n\r\n0\r\n\r\n", 400},
		{"'@' below 'A'", "@\r\n\r\n0\r\n\r\n", 400},
		{"'G' above 'F'", "G\r\n\r\n0\r\n\r\n", 400},
		{"'`' below 'a'", "`\r\n\r\n0\r\n\r\n", 400},
		{"'g' above 'f'", "g\r\n\r\n0\r\n\r\n", 400},
		{"'9', 'A', 'F', 'a' and 'f' are digits", "9A\r\n" + strings.Repeat("x", 0x9a) + "\r\nFf\r\n" + strings.Repeat("y", 0xff) + "\r\n0\r\n\r\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, code := readWholeBody(t, chunkedBodyFields, tt.wire); code != tt.want {
				t.Errorf("status %d; want %d (0: accepted)", code, tt.want)
			}
		})
	}
}
