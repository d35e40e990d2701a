"""An app that imports fine once, then crashes at every later start, until
the test removes crashloop.started: the pool's restart back-off at work.
GET /die kills the worker that imported it fine."""

import os

FLAG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crashloop.started")

if os.path.exists(FLAG):
    raise RuntimeError("crashloop: started before, so crashing now")
with open(FLAG, "w") as f:
    f.write(str(os.getpid()))


def app(environ, start_response):
    if environ["PATH_INFO"] == "/die":
        os._exit(3)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
