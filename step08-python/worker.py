"""One Python worker of step 08: it runs a WSGI app for the Go server.

    python3 worker.py SERVER_PID MODULE:CALLABLE [DIR]

The Go server starts N of these and talks to each over its stdin and
stdout, one request at a time, in the frames of the README's "The
framing": a kind byte, a 4-byte big-endian payload length, the payload.
stderr stays free for what Python itself prints (a traceback at import,
an app's print()). Standard library only, so any python3 runs it.
"""

import os
import select
import signal
import struct
import sys
import threading
import time
import traceback

MAX_PAYLOAD = 1 << 20  # the most bytes one frame carries (frame.go: maxPayload)
BODY_PIECE = 64 << 10  # the most body bytes one read asks the server for

# The kinds of frame each side may send (frame.go has the same table).
FROM_SERVER = {b"E": "environ", b"B": "body bytes", b"X": "body error", b"A": "abort"}
HEADER = struct.Struct(">cI")


class ProtocolError(Exception):
    """The server sent a frame this worker must not trust: it exits."""


# The pipes. fd 0 and fd 1 are the frames; Python code that prints or
# reads the terminal must not touch them, so the worker keeps private
# copies and points fd 0 at /dev/null and fd 1 at stderr.
FRAMES_IN = os.dup(0)
FRAMES_OUT = os.dup(1)
os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
os.dup2(2, 1)
sys.stdout = sys.stderr


# What has been read from the pipe and not yet taken: one os.read takes
# as much as has arrived (a frame's header and payload, often in one
# system call), not just what the caller asked for.
INBOX = bytearray()


def read_exactly(n):
    while len(INBOX) < n:
        more = os.read(FRAMES_IN, max(n - len(INBOX), 1 << 16))
        if not more:
            break  # the server closed the pipe: what is here is all there is
        INBOX.extend(more)
    data = bytes(INBOX[:n])
    del INBOX[:n]
    return data


def read_frame():
    """The next frame from the server: (kind, payload). None at a clean end
    (the server closed the pipe between frames: it is gone or stopping)."""
    head = read_exactly(HEADER.size)
    if not head:
        return None
    if len(head) < HEADER.size:
        raise ProtocolError("the pipe closed inside a frame header")
    kind, length = HEADER.unpack(head)
    if kind not in FROM_SERVER:
        raise ProtocolError("unknown frame kind %r" % kind)
    if length > MAX_PAYLOAD:
        raise ProtocolError("a %r frame of %d bytes is over the limit of %d" % (kind, length, MAX_PAYLOAD))
    payload = read_exactly(length)
    if len(payload) < length:
        raise ProtocolError("the pipe closed inside a %r frame" % kind)
    return kind, payload


# What send() has queued and flush() has not sent yet: a list of pieces,
# joined once per flush, so a response's S, D and F frames cost one join
# and one os.write, not a buffered write call per header and per payload.
OUTBOX = []


def send(kind, payload=b""):
    """Queue one frame; flush() sends what is queued."""
    OUTBOX.append(HEADER.pack(kind, len(payload)))
    OUTBOX.append(payload)


def send_data(kind, data):
    """Body bytes in frames of at most MAX_PAYLOAD."""
    view = memoryview(data)
    for start in range(0, len(view), MAX_PAYLOAD):
        send(kind, view[start:start + MAX_PAYLOAD])


def flush():
    data = memoryview(b"".join(OUTBOX))
    OUTBOX.clear()
    while data:  # a pipe may take less than all of it (more than 64 KiB)
        data = data[os.write(FRAMES_OUT, data):]


def pack_string(data):
    """A string in a payload: a 2-byte length, then its bytes."""
    if len(data) > 0xFFFF:
        raise ValueError("a string of %d bytes does not fit a 2-byte length" % len(data))
    return struct.pack(">H", len(data)) + data


def unpack_environ(payload):
    """The environ frame: name, value, name, value, each pack_string'ed.
    Bytes become str through Latin-1, once: a char per byte (PEP 3333).
    The whole payload is decoded in one call, and the strings are sliced
    out of the text: Latin-1 keeps every byte's position, so a length's
    two bytes are two chars, read with ord(). (One decode and one slice
    per string, where struct.unpack_from and a decode per string took
    twice as long.)"""
    text = payload.decode("latin-1")
    environ, pos, end, pair = {}, 0, len(text), []
    while pos < end:
        if pos + 2 > end:
            raise ProtocolError("the environ frame ends inside a length")
        start = pos + 2
        pos = start + (ord(text[pos]) << 8 | ord(text[pos + 1]))
        if pos > end:
            raise ProtocolError("the environ frame ends inside a string")
        pair.append(text[start:pos])
        if len(pair) == 2:
            environ[pair[0]] = pair[1]
            pair = []
    if pair:
        raise ProtocolError("the environ frame ends after a name, with no value")
    return environ


class ClientGone(OSError):
    """The server says the client left: stop making the response."""


class InputStream:
    """wsgi.input: the body, asked from the server piece by piece as the
    app reads, so no more of it is held here than the app asked for."""

    def __init__(self):
        self.buffer = b""
        self.ended = False
        self.error = None

    def _ask(self, want):
        """Ask the server for up to want more bytes; False at the end."""
        if self.error:
            raise self.error
        if self.ended:
            return False
        send(b"R", struct.pack(">I", max(1, min(want, BODY_PIECE))))
        flush()
        frame = read_frame()
        if frame is None:
            raise ProtocolError("the server closed the pipe during a read")
        kind, payload = frame
        if kind == b"A":
            self.error = ClientGone("the client went away")
        elif kind == b"X":  # the body broke: bad framing, too large, too slow
            self.error = OSError(payload.decode("utf-8", "replace"))
        elif kind != b"B":
            raise ProtocolError("a %r frame in answer to a read" % kind)
        if self.error:
            raise self.error
        if not payload:
            self.ended = True
            return False
        self.buffer += payload
        return True

    def _take(self, n):
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read(self, size=-1):
        if size is None or size < 0:
            while self._ask(BODY_PIECE):
                pass
            return self._take(len(self.buffer))
        while len(self.buffer) < size and self._ask(size - len(self.buffer)):
            pass
        return self._take(size)

    def readline(self, size=-1):
        if size is None:
            size = -1
        while b"\n" not in self.buffer and (size < 0 or len(self.buffer) < size):
            if not self._ask(BODY_PIECE if size < 0 else size - len(self.buffer)):
                break
        end = self.buffer.find(b"\n") + 1 or len(self.buffer)
        if size >= 0:
            end = min(end, size)
        return self._take(end)

    def readlines(self, hint=-1):
        lines, total = [], 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line


class ErrorStream:
    """wsgi.errors: each line goes to the server's log, tagged there with
    the request's id."""

    def __init__(self):
        self.pending = ""

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("wsgi.errors.write() takes a str, not %s" % type(text).__name__)
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            send(b"L", line.encode("utf-8", "backslashreplace"))
        return len(text)

    def writelines(self, seq):
        for text in seq:
            self.write(text)

    def flush(self):
        if self.pending:
            send(b"L", self.pending.encode("utf-8", "backslashreplace"))
            self.pending = ""


def client_left():
    """Between two chunks: has the server sent an abort? It sends nothing
    else unasked, so anything waiting on the pipe is one."""
    if not INBOX and not select.select([FRAMES_IN], [], [], 0)[0]:
        return False
    frame = read_frame()
    if frame is None or frame[0] != b"A":
        raise ProtocolError("an unasked frame that is not an abort: %r" % (frame and frame[0]))
    return True


def latin1(text, what):
    if not isinstance(text, str):
        raise TypeError("%s must be a str, not %s" % (what, type(text).__name__))
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError("%s %r is not Latin-1 (PEP 3333)" % (what, text)) from None


def serve(app, environ):
    """Run the app on one request and send its response as frames:
    S (start_response), W (write()), D (a chunk of the iterable), then F
    when it is done, or T with the traceback when it failed."""
    errors = ErrorStream()
    environ.update({
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": environ.get("wsgi.url_scheme", "http"),
        "wsgi.input": InputStream(),
        "wsgi.errors": errors,
        "wsgi.multithread": False,  # one request at a time in this process
        "wsgi.multiprocess": True,  # and other workers serve others
        "wsgi.run_once": False,
        # The stream ends where the body ends (Content-Length, or the last
        # chunk: the server de-chunks). Werkzeug (Flask) and gunicorn's
        # convention: without it, Flask reads a chunked body as empty.
        "wsgi.input_terminated": True,
    })
    # length: the Content-Length the app gave, if any; body: the bytes of
    # the iterable sent so far.
    state = {"started": False, "sent": False, "length": None, "body": 0}

    def start_response(status, headers, exc_info=None):
        replacing = bool(exc_info)
        if exc_info:
            try:
                if state["sent"]:
                    raise exc_info[1].with_traceback(exc_info[2])  # too late to replace (PEP 3333)
            finally:
                exc_info = None  # no reference cycle through the traceback
        elif state["started"]:
            raise AssertionError("start_response was called a second time without exc_info")
        payload = b"\x01" if replacing else b"\x00"  # the server replaces the headers it holds
        state["length"] = None
        payload += pack_string(latin1(status, "the status"))
        if not isinstance(headers, list):
            raise TypeError("the headers must be a list, not %s" % type(headers).__name__)
        for header in headers:
            if not (isinstance(header, tuple) and len(header) == 2):
                raise TypeError("a header must be a (name, value) tuple, not %r" % (header,))
            payload += pack_string(latin1(header[0], "a header name")) + pack_string(latin1(header[1], "a header value"))
            if header[0].lower() == "content-length" and header[1].isdigit():
                state["length"] = int(header[1])
        send(b"S", payload)  # sent with the first bytes of the body
        state["started"] = True
        return write

    def write(data):
        if not state["started"]:
            raise AssertionError("write() before start_response")
        if not isinstance(data, bytes):
            raise TypeError("write() takes bytes, not %s" % type(data).__name__)
        send_data(b"W", data)
        flush()  # write() must not return before the bytes are on their way
        state["sent"] = state["sent"] or bool(data)

    try:
        result = app(environ, start_response)
        try:
            # A list is a body known in full: all its frames in one flush.
            # Any other iterable may stream: a flush after each chunk, until
            # the Content-Length the app gave is reached (Flask and Django
            # give an iterator over a body they know in full): the last
            # chunk then goes out with the F frame, in one write.
            streaming = not isinstance(result, (list, tuple))
            for chunk in result:
                if not isinstance(chunk, bytes):
                    raise TypeError("the app's iterable yielded %s, not bytes" % type(chunk).__name__)
                if not chunk:
                    continue
                if not state["started"]:
                    raise AssertionError("the body began before start_response")
                send_data(b"D", chunk)
                state["sent"] = True
                state["body"] += len(chunk)
                if streaming and (state["length"] is None or state["body"] < state["length"]):
                    flush()
                    if client_left():
                        break
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # always, even when the client left (PEP 3333)
    except (ProtocolError, KeyboardInterrupt):
        raise
    except BaseException:
        errors.flush()
        send(b"T", traceback.format_exc().encode("utf-8", "backslashreplace"))
    else:
        errors.flush()
        send(b"F")
    flush()


def load_app(spec):
    """module:callable, as gunicorn takes it: 'myproject.wsgi:application'."""
    module_name, _, name = spec.partition(":")
    module = __import__(module_name, fromlist=["_"])
    app = module
    for part in (name or "application").split("."):
        app = getattr(app, part)
    if not callable(app):
        raise TypeError("%s is a %s, not a WSGI app" % (spec, type(app).__name__))
    return app


def watch_server(server_pid):
    """Exit when the server is gone, even in the middle of an app that
    never ends: this process group (the worker and whatever its app
    started) must not outlive the server that started it."""
    while os.getppid() == server_pid:
        time.sleep(0.5)
    os.killpg(0, signal.SIGKILL)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python3 worker.py SERVER_PID MODULE:CALLABLE [DIR]")
    server_pid, spec = int(sys.argv[1]), sys.argv[2]
    threading.Thread(target=watch_server, args=(server_pid,), daemon=True).start()
    if len(sys.argv) == 4:
        sys.path.insert(0, sys.argv[3])
    try:
        app = load_app(spec)
    except BaseException:
        # The server prints this and stops, or retries later.
        send(b"T", traceback.format_exc().encode("utf-8", "backslashreplace"))
        flush()
        return
    send(b"K", str(os.getpid()).encode("ascii"))  # ready
    flush()
    try:
        while True:
            frame = read_frame()
            if frame is None:
                return  # the server closed our stdin: stop
            kind, payload = frame
            if kind == b"A":
                continue  # the client left just as the last response ended: nothing to stop
            if kind != b"E":
                raise ProtocolError("a %r frame where a request should begin" % kind)
            serve(app, unpack_environ(payload))
    except ProtocolError as exc:
        print("worker %d: refusing the server's frames: %s" % (os.getpid(), exc), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
