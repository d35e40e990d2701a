"""Apps that misbehave on purpose, for pool_test.go: they die, hang, send
what start_response must refuse, and record what the worker did with them.

Each test copies this folder into a temporary one of its own and runs
misbehave:app there (-dir); the files an app writes or waits for
(NAME.pid, NAME.started, NAME.release, NAME.closed) live in that folder,
so tests never see each other's.
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = ("Content-Type", "text/plain")


def here(name):
    return os.path.join(HERE, name)


def record(name, text=""):
    with open(here(name) + ".tmp", "w") as f:
        f.write(text)
    os.replace(here(name) + ".tmp", here(name))  # whole or not at all


def wait_for(name):
    while not os.path.exists(here(name)):
        time.sleep(0.01)


def pid(environ, start_response):
    start_response("200 OK", [TEXT])
    return [str(os.getpid()).encode()]


def exit_before_headers(environ, start_response):
    os._exit(3)


def kill_before_headers(environ, start_response):
    os.kill(os.getpid(), 9)


def die_after_headers(environ, start_response):
    start_response("200 OK", [TEXT])

    def body():
        yield b"first\n"
        yield b"second\n"  # the second chunk sends the first: both are out
        os._exit(3)
    return body()


def sleep(environ, start_response):
    """Never answers: its pid and its child's are in sleep.pid."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    record("sleep.pid", "%d %d" % (os.getpid(), child.pid))
    time.sleep(3600)


def hold(environ, start_response):
    """Answers once the test creates NAME.release (NAME from the query)."""
    name = environ.get("QUERY_STRING") or "hold"
    record(name + ".started", str(os.getpid()))
    wait_for(name + ".release")
    start_response("200 OK", [TEXT])
    return [b"released ", str(os.getpid()).encode()]


def log(environ, start_response):
    errors = environ["wsgi.errors"]
    errors.write("first line from the app\nsecond ")
    errors.write("line from the app\n")
    start_response("200 OK", [TEXT])
    return [b"logged"]


class Stream:
    """An endless body that records its close() in stream.closed."""

    def __init__(self):
        self.n = 0

    def __iter__(self):
        return self

    def __next__(self):
        self.n += 1
        time.sleep(0.005)
        return b"chunk %d\n" % self.n

    def close(self):
        record("stream.closed", str(self.n))


def stream(environ, start_response):
    start_response("200 OK", [TEXT])
    return Stream()


def two_chunks(environ, start_response):
    """A list: its frames and its end go to the server in one flush."""
    start_response("200 OK", [TEXT])
    return [b"one\n", b"two\n"]


def read_after_yield(environ, start_response):
    """Reads wsgi.input after its second chunk, when a HEAD has already
    made the server abort: the worker must not be left with a frame it
    did not ask for."""
    start_response("200 OK", [TEXT])

    def body():
        yield b"one\n"
        yield b"two\n"
        time.sleep(0.2)  # the abort frame arrives meanwhile
        try:
            environ["wsgi.input"].read()
            record("read.result", "read")
        except OSError as exc:
            record("read.result", type(exc).__name__)
        yield b"three\n"
    return body()


def big(environ, start_response):
    start_response("200 OK", [TEXT])
    return [bytes(range(256)) * (3 * 4096)]  # 3 MiB in one bytes object


def hop_by_hop(environ, start_response):
    start_response("200 OK", [TEXT, ("Connection", "close")])
    return [b"a hop-by-hop header the server must refuse\n"]


def bad_status(environ, start_response):
    start_response("200", [TEXT])
    return [b"a status without a reason phrase\n"]


ROUTES = {
    "/pid": pid,
    "/exit-before-headers": exit_before_headers,
    "/kill-before-headers": kill_before_headers,
    "/die-after-headers": die_after_headers,
    "/sleep": sleep,
    "/hold": hold,
    "/log": log,
    "/stream": stream,
    "/two-chunks": two_chunks,
    "/read-after-yield": read_after_yield,
    "/big": big,
    "/hop-by-hop": hop_by_hop,
    "/bad-status": bad_status,
}


def app(environ, start_response):
    route = ROUTES.get(environ["PATH_INFO"])
    if route is None:
        start_response("404 Not Found", [TEXT])
        return [b"no such misbehaviour\n"]
    return route(environ, start_response)
