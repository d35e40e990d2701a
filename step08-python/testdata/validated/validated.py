"""The course's step 07 demo app inside wsgiref.validate.validator, for
realapps_test.go: every request that passes through it is checked against
PEP 3333 on both sides, the server's (the environ, wsgi.input,
wsgi.errors, start_response, write) and the app's.

    go run ./step08-python -dir step08-python/testdata/validated -app validated:app

course_apps is importable because the worker's own folder (where step 08
writes worker.py and course_apps.py) is first on sys.path.

The validator raises AssertionError for a broken rule, which the worker
reports as a traceback in the server's log; for lesser findings it warns
(WSGIWarning), and here a warning is an error too, so it cannot pass
unseen on a stderr nobody reads.
"""

import os
import warnings
from wsgiref.validate import WSGIWarning, validator

import course_apps

warnings.simplefilter("error", WSGIWarning)

# One complaint cannot be raised: an iterator never closed is found only
# when it is garbage collected, and the validator writes that to stderr.
# The test names a file for the workers' stderr, to read it afterwards.
if os.environ.get("VALIDATED_STDERR"):
    os.dup2(os.open(os.environ["VALIDATED_STDERR"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644), 2)

app = validator(course_apps.step07)
