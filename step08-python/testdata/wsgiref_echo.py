"""Serve an environ-echo app with CPython's wsgiref, for wsgiref_test.go.

Prints the port it listens on (127.0.0.1, chosen by the OS) as the first line
of stdout, then serves until it is killed. Python 3 standard library only.

Every response carries the environ as one JSON object, in the X-Environ
header (a server may drop a HEAD response's body) and in the body:
  - the CGI and HTTP_* variables (the str values),
  - wsgi.version, url_scheme, multithread, multiprocess, run_once,
  - "body_length": how many bytes the app read from wsgi.input.
JSON's ASCII escapes carry Latin-1 strings exactly ('\\xe9' -> "\\u00e9").
"""

import json
import os
import sys
from wsgiref.simple_server import make_server

# wsgiref copies the OS environment into every environ (PEP 3333 allows it).
# Leave those keys out: they say nothing about the request.
OS_KEYS = frozenset(os.environ)

WSGI_KEYS = ("wsgi.version", "wsgi.url_scheme", "wsgi.multithread",
             "wsgi.multiprocess", "wsgi.run_once")


def app(environ, start_response):
    # wsgiref's wsgi.input is the raw socket: it does not stop at
    # Content-Length, so read exactly that many bytes and no more.
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""

    out = {k: v for k, v in environ.items()
           if isinstance(v, str) and not k.startswith("wsgi.") and k not in OS_KEYS}
    for k in WSGI_KEYS:
        out[k] = list(environ[k]) if isinstance(environ[k], tuple) else environ[k]
    out["body_length"] = len(body)

    payload = json.dumps(out, sort_keys=True)  # ensure_ascii: pure ASCII
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-Environ", payload)])
    return [payload.encode("ascii") + b"\n"]


def main():
    with make_server("127.0.0.1", 0, app) as server:
        print(server.server_port, flush=True)
        server.serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
