"""An app whose import never ends, as one that waits at import time for a
database that is not there: the pool kills the worker and says so."""

import time

time.sleep(3600)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"never reached"]
