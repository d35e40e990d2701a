"""The check's app, a leaky one: every request keeps a mebibyte that is
never freed, as a cache with no bound does, so a worker grows for as long
as it lives. Each answer says which process served it and how many
requests that process has served. Standard library only."""

import os

LEAK = []


def app(environ, start_response):
    LEAK.append(b"x" * (1 << 20))  # never freed
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"worker %d served %d\n" % (os.getpid(), len(LEAK))]
