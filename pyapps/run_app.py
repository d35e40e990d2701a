"""Call one of course_apps' apps on raw HTTP requests, with no server.

    python3 pyapps/run_app.py step06 request.http [request2.http ...]
    printf 'GET /json HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | python3 pyapps/run_app.py step06 -

Each file holds one request as it came off the wire. The environ is built
the way the course's Go servers build it, for the parts an app sees (step
04's environ.go): the path percent-decoded and carried as Latin-1, a field
name with "_" dropped, repeated fields joined with "," (Cookie with "; "),
CONTENT_TYPE and CONTENT_LENGTH only when sent, a chunked body de-chunked
into wsgi.input. No socket is opened, so nothing a server decides on its
own (keep-alive, framing, refusals) is in the answer: only the app's.

For each request one line of JSON goes to stdout: the status and headers
the app gave start_response, its body (base64: the bytes may be anything),
the exception that stopped it ("error", null if none; "sent" says whether
a chunk had gone out first) and what it wrote to wsgi.errors.
TestPythonAppsAnswerAsTheGoApps (transcript/cmd/coursecheck) compares
these with the answers the transcripts recorded from the Go demos.
"""

import base64
import io
import json
import re
import sys
import urllib.parse

import course_apps

APPS = ("step01", "step04", "step05", "step06", "step07")


def parse_request(data):
    """Split one request into method, target, version, fields and body.
    The request is one the course's server accepted, so this is lenient."""
    data = data.lstrip(b"\r\n")  # empty lines before a request are skipped (RFC 9112 §2.2)
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, target, version = lines[0].split(b" ", 2)
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    if any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in fields):
        body = dechunk(rest)
    else:
        length = first(fields, "Content-Length")
        body = rest[:int(length.split(",")[0])] if length is not None else b""
    version = version.decode("ascii")
    if version != "HTTP/1.0":
        version = "HTTP/1.1"  # a later HTTP/1 minor is read as the latest known (RFC 9110 §2.5)
    return method.decode("ascii"), target, version, fields, body


def dechunk(data):
    """A chunked body's data: extensions ignored, the trailer dropped."""
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2:]


def first(fields, name):
    for n, v in fields:
        if n.lower() == name.lower():
            return v
    return None


def build_environ(data):
    """The environ the Go server would build for these request bytes."""
    method, target, version, fields, body = parse_request(data)
    authority = None
    if target == b"*":
        path, query = b"*", b""
    else:
        if not target.startswith(b"/"):  # absolute-form: http://host:port/p?q
            rest = target.split(b"://", 1)[1]
            end = re.match(rb"[^/?]*", rest).end()
            authority, target = rest[:end], rest[end:]
            if not target.startswith(b"/"):
                target = b"/" + target  # "http://h?q" asks for the path "/"
        path, _, query = target.partition(b"?")
    host = authority.decode("latin-1") if authority is not None else first(fields, "Host") or ""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": server_name(host),
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": version,
        "REMOTE_ADDR": "127.0.0.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "run_app.py",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if first(fields, "Content-Type") is not None:
        environ["CONTENT_TYPE"] = first(fields, "Content-Type")
    if first(fields, "Content-Length") is not None:
        environ["CONTENT_LENGTH"] = first(fields, "Content-Length").split(",")[0].rstrip(" \t")
    for name, value in fields:
        if "_" in name:
            continue  # X_Forwarded_For would pass for X-Forwarded-For
        name = name.encode("latin-1").upper().decode("latin-1").replace("-", "_")
        if name in environ:
            continue  # CONTENT_TYPE, CONTENT_LENGTH, or a field named like a CGI variable
        key = "HTTP_" + name
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


def server_name(host):
    """The Host's name without its port ("[::1]:80" gives "[::1]")."""
    if host.startswith("["):
        return host[:host.find("]") + 1]
    return host.partition(":")[0] or "127.0.0.1"


def call(app, environ):
    """Run the app as a server would, keeping what a server would send."""
    answer = {"status": None, "headers": [], "error": None, "sent": False}
    chunks = []

    def write(data):
        if data:
            answer["sent"] = True
            chunks.append(bytes(data))

    def start_response(status, headers, exc_info=None):
        if exc_info and answer["sent"]:
            raise exc_info[1].with_traceback(exc_info[2])
        if answer["status"] is not None and not exc_info:
            raise AssertionError("start_response called a second time without exc_info")
        answer["status"], answer["headers"] = status, [list(h) for h in headers]
        return write

    try:
        result = app(environ, start_response)
        try:
            for chunk in result:
                write(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()
    except Exception as exc:
        answer["error"] = "%s: %s" % (type(exc).__name__, exc)
    answer["body"] = base64.b64encode(b"".join(chunks)).decode("ascii")
    answer["errors"] = environ["wsgi.errors"].getvalue()
    return answer


def main(argv):
    if len(argv) < 3 or argv[1] not in APPS:
        sys.stderr.write("usage: python3 run_app.py %s FILE|- ...\n" % "|".join(APPS))
        return 2
    app = getattr(course_apps, argv[1])
    for path in argv[2:]:
        try:
            if path == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    data = f.read()
        except OSError as exc:
            sys.stderr.write("run_app.py: %s\n" % exc)
            return 2
        try:
            environ = build_environ(data)
        except Exception as exc:
            sys.stderr.write("run_app.py: %s: not a request the course's server accepts: %r\n" % (path, exc))
            return 2
        print(json.dumps(call(app, environ)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
