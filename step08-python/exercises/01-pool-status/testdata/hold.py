"""The check's app: POST /hold keeps its worker busy until the client
sends the request's body, so the check can hold workers with no clock.
Standard library only."""

import os


def app(environ, start_response):
    if environ["PATH_INFO"] == "/hold":
        write = start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
        write(b"held by worker %d\n" % os.getpid())  # write() goes out at once (PEP 3333)
        environ["wsgi.input"].read()  # waits for the body: the worker stays busy until then
        return [b"released\n"]
    start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"not found: this app has only POST /hold\n"]
