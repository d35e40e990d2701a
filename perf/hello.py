"""The hello app the perf command serves from Python: the bytes of step 07's
GET / (the same headers but for Date and Server, which each server adds
itself), written to PEP 3333 with the standard library only.

    gunicorn --chdir perf hello:app             # gunicorn imports app
    python3 perf/hello.py wsgiref 127.0.0.1:8000
    python3 perf/hello.py waitress 127.0.0.1:8000
"""

import os
import sys

BODY = b"Hello, World!"


def app(environ, start_response):
    start_response("200 OK", [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(BODY))),
        ("X-Request-Id", os.urandom(8).hex()),  # step07 sends a fresh id per request too
    ])
    return [BODY]


def serve_wsgiref(host, port):
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass  # no access log, as the Go servers' -quiet

    make_server(host, port, app, handler_class=Quiet).serve_forever()


def serve_waitress(host, port):
    import waitress
    waitress.serve(app, host=host, port=port, _quiet=True)


if __name__ == "__main__":
    kind, addr = sys.argv[1], sys.argv[2]
    host, _, port = addr.rpartition(":")
    {"wsgiref": serve_wsgiref, "waitress": serve_waitress}[kind](host, int(port))
