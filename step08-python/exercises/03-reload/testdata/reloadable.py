"""The check's app, whose code the check changes on disk before it sends
SIGHUP: each answer says which VERSION of the code served it, and which
worker process. POST /hold keeps its worker busy until the client sends
the request's body. Standard library only."""

import os

VERSION = "one"


def app(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    answer = b"%s %d\n" % (VERSION.encode(), os.getpid())
    if environ["PATH_INFO"] != "/hold":
        return [answer]
    write(answer)  # write() goes out at once (PEP 3333)
    environ["wsgi.input"].read()  # waits for the body: the worker stays busy until then
    return [b"released\n"]
