"""The environ a Python app sees, as JSON, for pythonenviron_test.go.

The same app runs in two servers and the test compares what it answers:

    go run ./step08-python -dir step08-python/testdata/pyenviron -app environ_echo:app
    python3 step08-python/testdata/pyenviron/environ_echo.py   # wsgiref.simple_server

Run as a script it serves with wsgiref.simple_server on 127.0.0.1 and a
port the OS picks, which it prints as the first line of stdout.

The answer carries every environ key except those of the OS environment
(wsgiref copies os.environ into each environ; PEP 3333 allows it): a str,
bool, int or tuple as its JSON value, anything else (wsgi.input,
wsgi.errors, wsgi.file_wrapper) as "type:" and its type's name. It comes
in the X-Environ header and in the body. JSON's ASCII escapes carry
Latin-1 strings exactly ('\\xe9' -> "\\u00e9"). "body" is what the app read
from wsgi.input: CONTENT_LENGTH bytes, or, where the server says
wsgi.input_terminated (the stream ends where the body ends, as after
de-chunking), all of it. Standard library only.
"""

import json
import os
import sys

OS_KEYS = frozenset(os.environ)


def describe(value):
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, tuple):
        return [describe(v) for v in value]
    kind = type(value)
    return "type:%s.%s" % (kind.__module__, kind.__qualname__)


def app(environ, start_response):
    stream = environ["wsgi.input"]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""  # wsgiref's stream is the socket: reading on would wait forever
    out = {k: describe(v) for k, v in environ.items() if k not in OS_KEYS}
    out["body"] = body.decode("latin-1")
    payload = json.dumps(out, sort_keys=True)  # ensure_ascii: pure ASCII
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Environ", payload)])
    return [payload.encode("ascii") + b"\n"]


def main():
    from wsgiref.simple_server import make_server
    with make_server("127.0.0.1", 0, app) as server:
        print(server.server_port, flush=True)
        server.serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
