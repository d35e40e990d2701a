package main

// frame.go: the messages between this server and its Python workers
// (worker.py), over the worker's stdin and stdout. Every message is a
// frame:
//
//	+------+----------------------+-----------------+
//	| kind | length (4 bytes, big | payload         |
//	| byte | endian, ≤ 1 MiB)     | (length bytes)  |
//	+------+----------------------+-----------------+
//
// as uWSGI's packet starts with a 4-byte header and FastCGI's records
// with an 8-byte one: the reader always knows how much to read next, and
// a payload may hold any byte, so nothing is escaped. The README's "The
// framing" has the kinds and the payloads; worker.py has the Python side.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	maxPayload = 1 << 20  // the most bytes one frame carries (worker.py: MAX_PAYLOAD)
	bodyPiece  = 64 << 10 // the most body bytes a worker may ask for at once (worker.py: BODY_PIECE)
	headerSize = 5        // kind + length
)

// The kinds of frame. The server sends:
const (
	kindEnviron   = 'E' // a request begins: the environ's strings
	kindBody      = 'B' // body bytes, the answer to a read; empty: the body has ended
	kindBodyError = 'X' // the body broke (bad framing, too large, too slow): the read fails with this text
	kindAbort     = 'A' // the client is gone: stop making the response
)

// The worker sends:
const (
	kindReady    = 'K' // the app is imported; the payload is the worker's pid
	kindRead     = 'R' // wsgi.input wants up to n more body bytes (4 bytes, big endian)
	kindStart    = 'S' // start_response: replace flag, status, headers
	kindWrite    = 'W' // bytes given to write(): they go out now
	kindData     = 'D' // a chunk of the app's iterable
	kindLog      = 'L' // one line the app wrote to wsgi.errors
	kindFinished = 'F' // the response is complete, the iterable closed
	kindFailed   = 'T' // the app raised: the payload is the traceback
)

// fromWorker is what readFrame takes: any other kind byte is refused.
var fromWorker = [256]bool{kindReady: true, kindRead: true, kindStart: true, kindWrite: true,
	kindData: true, kindLog: true, kindFinished: true, kindFailed: true}

// frame is one message: its kind and its payload.
type frame struct {
	kind    byte
	payload []byte
}

// errProtocol marks a frame the worker must not have sent. The worker is
// then not to be trusted with another request: it is killed and replaced.
var errProtocol = errors.New("worker protocol")

func protocolErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errProtocol}, args...)...)
}

// writeFrame queues one frame in w; the caller flushes.
func writeFrame(w *bufio.Writer, kind byte, payload []byte) error {
	if len(payload) > maxPayload {
		return protocolErrorf("a %q frame of %d bytes is over the limit of %d", kind, len(payload), maxPayload)
	}
	var head [headerSize]byte
	head[0] = kind
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	w.Write(head[:])
	_, err := w.Write(payload)
	return err
}

// readFrame reads the worker's next frame. Its payload is a fresh slice:
// the server may hold a chunk after the next one is read (response.go's
// look-ahead). io.EOF means the pipe closed between frames (the worker
// exited); a pipe that closes inside a frame is io.ErrUnexpectedEOF.
func readFrame(r *bufio.Reader) (frame, error) {
	var head [headerSize]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return frame{}, err
	}
	kind, length := head[0], binary.BigEndian.Uint32(head[1:])
	if !fromWorker[kind] {
		return frame{}, protocolErrorf("unknown frame kind %q", kind)
	}
	if length > maxPayload {
		return frame{}, protocolErrorf("a %q frame of %d bytes is over the limit of %d", kind, length, maxPayload)
	}
	payload := make([]byte, length)
	if _, err := io.ReadFull(r, payload); err != nil {
		return frame{}, io.ErrUnexpectedEOF
	}
	return frame{kind, payload}, nil
}

// appendString adds a string to a payload: a 2-byte length, its bytes.
func appendString(payload, s []byte) []byte {
	payload = binary.BigEndian.AppendUint16(payload, uint16(len(s)))
	return append(payload, s...)
}

// cutString takes one appendString'ed string off the front of a payload.
func cutString(payload []byte) (s, rest []byte, err error) {
	if len(payload) < 2 {
		return nil, nil, protocolErrorf("the payload ends inside a string's length")
	}
	n := int(binary.BigEndian.Uint16(payload))
	if len(payload) < 2+n {
		return nil, nil, protocolErrorf("the payload ends inside a string of %d bytes", n)
	}
	return payload[2 : 2+n], payload[2+n:], nil
}

// environPayload appends the environ frame to payload: every string value,
// as name then value. A Go CGI value holds one rune per byte of the request
// (Latin-1, environ.go); appendLatin1 writes those bytes back, so the pipe
// carries the client's own bytes and worker.py decodes them as Latin-1
// exactly once. The other values (wsgi.input, wsgi.errors, functions) are
// the worker's to make. Nothing here can pass 64 KiB: the head is far
// smaller (parse.go). The caller passes its worker's buffer of the last
// request, emptied: the frame is built with no allocation at all.
func environPayload(payload []byte, environ Environ) []byte {
	for name, value := range environ {
		if s, ok := value.(string); ok {
			payload = binary.BigEndian.AppendUint16(payload, uint16(len(name)))
			payload = append(payload, name...)
			payload = appendLatin1(payload, s)
		}
	}
	return payload
}

// appendLatin1 is appendString(payload, latin1Bytes(s)) with no copy in
// between: the length is filled in once the runes are written as bytes.
func appendLatin1(payload []byte, s string) []byte {
	at := len(payload)
	payload = append(payload, 0, 0) // the length, below
	for _, r := range s {
		payload = append(payload, byte(r))
	}
	binary.BigEndian.PutUint16(payload[at:], uint16(len(payload)-at-2))
	return payload
}

// startCall is a start_response frame, decoded.
type startCall struct {
	replace bool // called with exc_info: these headers replace the first ones
	status  string
	headers []Header
}

// parseStart decodes a start_response frame: a flag byte, the status, then
// name and value for each header. The strings come as the bytes that go on
// the wire; as Go strings they are Latin-1 runes, like the environ's.
func parseStart(payload []byte) (startCall, error) {
	var call startCall
	if len(payload) < 1 || payload[0] > 1 {
		return call, protocolErrorf("a start_response frame must begin with a flag byte 0 or 1")
	}
	call.replace = payload[0] == 1
	status, rest, err := cutString(payload[1:])
	if err != nil {
		return call, err
	}
	call.status = latin1(string(status))
	for len(rest) > 0 {
		var name, value []byte
		if name, rest, err = cutString(rest); err == nil {
			value, rest, err = cutString(rest)
		}
		if err != nil {
			return call, err
		}
		call.headers = append(call.headers, Header{latin1(string(name)), latin1(string(value))})
	}
	return call, nil
}

// parseRead decodes a read frame: how many body bytes the app wants, 1 to
// bodyPiece.
func parseRead(payload []byte) (int, error) {
	if len(payload) != 4 {
		return 0, protocolErrorf("a read frame holds 4 bytes, not %d", len(payload))
	}
	n := binary.BigEndian.Uint32(payload)
	if n == 0 || n > bodyPiece {
		return 0, protocolErrorf("a read of %d bytes: it must ask for 1 to %d", n, bodyPiece)
	}
	return int(n), nil
}
