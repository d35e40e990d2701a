package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// wireFrame is one frame as its bytes: the kind, the 4-byte length, the
// payload. length < 0 means the payload's own length.
func wireFrame(kind byte, length int, payload string) string {
	if length < 0 {
		length = len(payload)
	}
	head := []byte{kind, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(head[1:], uint32(length))
	return string(head) + payload
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		wire    string
		want    frame
		wantErr string // "" for none; errProtocol's text is checked with errors.Is
		proto   bool   // the error is a protocol error (the worker is not to be trusted)
	}{
		{name: "ready", wire: wireFrame('K', -1, "1234"), want: frame{'K', []byte("1234")}},
		{name: "empty finished", wire: wireFrame('F', -1, ""), want: frame{'F', []byte{}}},
		{name: "a chunk with every byte", wire: wireFrame('D', -1, "\x00\xff\r\nE\x00\x00\x00\x01"), want: frame{'D', []byte("\x00\xff\r\nE\x00\x00\x00\x01")}},
		{name: "exactly the limit", wire: wireFrame('D', -1, strings.Repeat("x", maxPayload)), want: frame{'D', []byte(strings.Repeat("x", maxPayload))}},
		{name: "a kind only the server sends", wire: wireFrame('E', -1, ""), wantErr: `unknown frame kind 'E'`, proto: true},
		{name: "an abort from the worker", wire: wireFrame('A', -1, ""), wantErr: `unknown frame kind 'A'`, proto: true},
		{name: "lower case", wire: wireFrame('d', -1, "x"), wantErr: `unknown frame kind 'd'`, proto: true},
		{name: "a zero kind byte", wire: wireFrame(0, -1, ""), wantErr: `unknown frame kind '\x00'`, proto: true},
		{name: "one byte over the limit", wire: wireFrame('D', maxPayload+1, ""), wantErr: "over the limit of 1048576", proto: true},
		{name: "a length with the top bit set", wire: wireFrame('W', 1<<31, ""), wantErr: "over the limit", proto: true},
		{name: "nothing at all", wire: "", wantErr: io.EOF.Error()},
		{name: "cut inside the header", wire: "D\x00\x00", wantErr: io.ErrUnexpectedEOF.Error()},
		{name: "cut inside the payload", wire: wireFrame('D', 10, "12345"), wantErr: io.ErrUnexpectedEOF.Error()},
		{name: "no payload after a length", wire: wireFrame('L', 1, ""), wantErr: io.ErrUnexpectedEOF.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readFrame(bufio.NewReader(strings.NewReader(tt.wire)))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("readFrame(%.40q) = %v, want %q", tt.wire, err, tt.want.kind)
				}
				if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(frame{})); diff != "" {
					t.Errorf("readFrame(%.40q) (-want +got):\n%s", tt.wire, diff)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, errProtocol) != tt.proto {
				t.Errorf("readFrame(%.40q) = %q, %v; want an error with %q (a protocol error: %v)", tt.wire, got.kind, err, tt.wantErr, tt.proto)
			}
		})
	}
}

// Two frames back to back come out one after the other, and the first
// one's payload is not overwritten by reading the second (response.go
// holds a chunk while it reads the next).
func TestReadFrameGivesEachPayloadItsOwnBytes(t *testing.T) {
	r := bufio.NewReader(strings.NewReader(wireFrame('D', -1, "first") + wireFrame('D', -1, "other")))
	first, err1 := readFrame(r)
	second, err2 := readFrame(r)
	if err1 != nil || err2 != nil || string(first.payload) != "first" || string(second.payload) != "other" {
		t.Errorf("got %q, %v then %q, %v; want \"first\" then \"other\"", first.payload, err1, second.payload, err2)
	}
	if _, err := readFrame(r); err != io.EOF {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
}

func TestWriteFrameRefusesMoreThanTheLimit(t *testing.T) {
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	if err := writeFrame(w, kindBody, make([]byte, maxPayload+1)); !errors.Is(err, errProtocol) {
		t.Errorf("writeFrame of %d bytes = %v, want a protocol error", maxPayload+1, err)
	}
	w.Flush()
	if out.Len() != 0 {
		t.Errorf("writeFrame wrote %d bytes of a frame it refused", out.Len())
	}
}

func TestCutString(t *testing.T) {
	tests := []struct {
		name       string
		payload    string
		want, rest string
		wantErr    string
	}{
		{name: "empty string", payload: "\x00\x00", want: "", rest: ""},
		{name: "a string and more", payload: "\x00\x03abcde", want: "abc", rest: "de"},
		{name: "nothing", payload: "", wantErr: "inside a string's length"},
		{name: "half a length", payload: "\x00", wantErr: "inside a string's length"},
		{name: "length past the end", payload: "\x00\x05abc", wantErr: "inside a string of 5 bytes"},
		{name: "the largest length, no bytes", payload: "\xff\xff", wantErr: "inside a string of 65535 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, rest, err := cutString([]byte(tt.payload))
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, errProtocol) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("cutString(%q) = %q, %q, %v; want a protocol error with %q", tt.payload, s, rest, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(s) != tt.want || string(rest) != tt.rest {
				t.Errorf("cutString(%q) = %q, %q, %v; want %q, %q", tt.payload, s, rest, err, tt.want, tt.rest)
			}
		})
	}
}

// startPayload builds a start_response frame's payload as worker.py does.
func startPayload(flag byte, strs ...string) []byte {
	payload := []byte{flag}
	for _, s := range strs {
		payload = appendString(payload, []byte(s))
	}
	return payload
}

func TestParseStart(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    startCall
		wantErr string
	}{
		{name: "status only", payload: startPayload(0, "200 OK"), want: startCall{status: "200 OK"}},
		{name: "headers", payload: startPayload(0, "404 Not Found", "Content-Type", "text/plain", "X-A", ""),
			want: startCall{status: "404 Not Found", headers: []Header{{"Content-Type", "text/plain"}, {"X-A", ""}}}},
		{name: "replace with exc_info", payload: startPayload(1, "500 Oops"), want: startCall{replace: true, status: "500 Oops"}},
		{name: "Latin-1 bytes become runes", payload: startPayload(0, "200 \xe9t\xe9", "X-Caf\xe9", "\xff"),
			want: startCall{status: "200 été", headers: []Header{{"X-Café", "ÿ"}}}},
		{name: "empty payload", payload: nil, wantErr: "flag byte"},
		{name: "flag byte 2", payload: startPayload(2, "200 OK"), wantErr: "flag byte"},
		{name: "no status", payload: []byte{0}, wantErr: "inside a string's length"},
		{name: "status cut short", payload: []byte("\x00\x00\x09200 OK"), wantErr: "inside a string of 9 bytes"},
		{name: "a name without a value", payload: startPayload(0, "200 OK", "Content-Type"), wantErr: "inside a string's length"},
		{name: "a value cut short", payload: append(startPayload(0, "200 OK", "A"), 0, 4, 'x'), wantErr: "inside a string of 4 bytes"},
		{name: "a stray byte after the headers", payload: append(startPayload(0, "200 OK", "A", "b"), 0), wantErr: "inside a string's length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStart(tt.payload)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, errProtocol) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseStart(%q) = %+v, %v; want a protocol error with %q", tt.payload, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseStart(%q): %v", tt.payload, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(startCall{})); diff != "" {
				t.Errorf("parseStart(%q) (-want +got):\n%s", tt.payload, diff)
			}
		})
	}
}

func TestParseRead(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    int
		wantErr string
	}{
		{name: "one byte", payload: "\x00\x00\x00\x01", want: 1},
		{name: "a whole piece", payload: "\x00\x01\x00\x00", want: bodyPiece},
		{name: "zero", payload: "\x00\x00\x00\x00", wantErr: "a read of 0 bytes"},
		{name: "one over a piece", payload: "\x00\x01\x00\x01", wantErr: "a read of 65537 bytes"},
		{name: "the largest number", payload: "\xff\xff\xff\xff", wantErr: "a read of 4294967295 bytes"},
		{name: "three bytes", payload: "\x00\x00\x01", wantErr: "holds 4 bytes, not 3"},
		{name: "five bytes", payload: "\x00\x00\x00\x01\x00", wantErr: "holds 4 bytes, not 5"},
		{name: "empty", payload: "", wantErr: "holds 4 bytes, not 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRead([]byte(tt.payload))
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, errProtocol) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseRead(%q) = %d, %v; want a protocol error with %q", tt.payload, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseRead(%q) = %d, %v; want %d", tt.payload, got, err, tt.want)
			}
		})
	}
}

// environPayload sends every string value, name then value, as the
// client's own bytes, and nothing else.
func TestEnvironPayload(t *testing.T) {
	environ := Environ{"PATH_INFO": "/caf\u00e9", "wsgi.input": strings.NewReader(""), "wsgi.version": [2]int{1, 0}}
	rest := environPayload(nil, environ)
	got := map[string]string{}
	for len(rest) > 0 {
		var name, value []byte
		var err error
		if name, rest, err = cutString(rest); err == nil {
			value, rest, err = cutString(rest)
		}
		if err != nil {
			t.Fatal(err)
		}
		got[string(name)] = string(value)
	}
	if diff := cmp.Diff(map[string]string{"PATH_INFO": "/caf\xe9"}, got); diff != "" {
		t.Errorf("environPayload (-want +got):\n%s", diff)
	}
}
