package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame decoder, as a worker
// gone wrong might send them. The seeds run in every plain `go test`;
// `go test ./step08-python -run '^$' -fuzz FuzzReadFrame` explores. The
// decoder must never panic, never hand over a payload over the limit or
// a kind a worker may not send, and fail only with io.EOF (the pipe
// closed between frames), io.ErrUnexpectedEOF (inside one) or a protocol
// error; every frame it accepts must write back as the same bytes.
func FuzzReadFrame(f *testing.F) {
	for _, seed := range []string{
		wireFrame('K', -1, "4242"),
		wireFrame('F', -1, ""),
		wireFrame('S', -1, string(startPayload(0, "200 OK", "Content-Type", "text/plain"))),
		wireFrame('R', -1, "\x00\x01\x00\x00"),
		wireFrame('D', -1, "hello") + wireFrame('D', -1, "world") + wireFrame('F', -1, ""),
		wireFrame('L', -1, "a line") + wireFrame('T', -1, "Traceback ..."),
		wireFrame('E', -1, ""),
		wireFrame('D', maxPayload+1, ""),
		wireFrame('D', 10, "cut"),
		"D\x00",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		r := bufio.NewReader(bytes.NewReader(wire))
		var again bytes.Buffer
		w := bufio.NewWriter(&again)
		consumed := 0
		for {
			fr, err := readFrame(r)
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, errProtocol) {
					t.Fatalf("readFrame failed with %T %v; want io.EOF, io.ErrUnexpectedEOF or a protocol error", err, err)
				}
				break
			}
			if len(fr.payload) > maxPayload {
				t.Fatalf("a payload of %d bytes, over the limit of %d", len(fr.payload), maxPayload)
			}
			if !fromWorker[fr.kind] {
				t.Fatalf("accepted kind %q, which a worker never sends", fr.kind)
			}
			if err := writeFrame(w, fr.kind, fr.payload); err != nil {
				t.Fatalf("writeFrame of an accepted frame: %v", err)
			}
			consumed += headerSize + len(fr.payload)
		}
		w.Flush()
		// What was accepted, written again, is the input's first bytes.
		if !bytes.Equal(again.Bytes(), wire[:consumed]) {
			t.Fatalf("frames written back as %q, read from %q", again.Bytes(), wire[:consumed])
		}
		// And it reads back as the same frames.
		back := bufio.NewReader(bytes.NewReader(again.Bytes()))
		for n := 0; ; n++ {
			if _, err := readFrame(back); err != nil {
				if err != io.EOF {
					t.Fatalf("frame %d of what writeFrame wrote: %v", n, err)
				}
				break
			}
		}
	})
}

// Anything writeFrame writes reads back identically: kind and payload.
func FuzzWriteFrameReadsBack(f *testing.F) {
	f.Add(byte('D'), []byte("hello"))
	f.Add(byte('F'), []byte{})
	f.Add(byte('S'), startPayload(1, "500 Oops"))
	f.Fuzz(func(t *testing.T, kind byte, payload []byte) {
		if !fromWorker[kind] {
			kind = kindData
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		if err := writeFrame(w, kind, payload); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		got, err := readFrame(bufio.NewReader(&out))
		if err != nil || got.kind != kind || !bytes.Equal(got.payload, payload) {
			t.Fatalf("wrote %q %q, read back %q %q, %v", kind, payload, got.kind, got.payload, err)
		}
	})
}
