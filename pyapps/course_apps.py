"""The course's demo apps as plain WSGI apps, standard library only.

Serve them with any WSGI server to hold it to the course's transcripts:

    python3 -m gunicorn --chdir pyapps course_apps:step05
    python3 pyapps/course_apps.py step05 127.0.0.1:8000   # wsgiref.simple_server

then, from the repository root:

    go run ./transcript/cmd/coursecheck -step 5 -addr 127.0.0.1:8000

Each app answers byte for byte what the Go demo of that step answers for
the same environ. Where bytes depend on the language, the app writes a
neutral form the checker knows: a stream in the environ echo shows its
Python type (the Go demo shows its Go type) and the checker ignores both;
a JSON decoder's complaint after "The body is not valid JSON: " is Python's.
TestPythonAppsAnswerAsTheGoApps (transcript/cmd/coursecheck) holds them to
the Go demos' recorded answers, through run_app.py (no server in between).
"""

import json
import random
import sys
import time
import urllib.parse

TEXT_PLAIN = ("Content-Type", "text/plain; charset=utf-8")


# Step 01: the contract. One status, one header, one chunk.

def hello(environ, start_response):
    start_response("200 OK", [TEXT_PLAIN])
    return [b"Hello, world!\n"]


# Step 04: the environ echo, as wsgiref's demo_app, in the Go demo's format.

def go_quote(text):
    """Quote a str the way Go's strconv.QuoteToASCII does."""
    short = {'"': '\\"', "\\": "\\\\", "\a": "\\a", "\b": "\\b", "\f": "\\f",
             "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in short:
            out.append(short[ch])
        elif code < 0x20 or code == 0x7F:
            out.append("\\x%02x" % code)
        elif code < 0x7F:
            out.append(ch)
        elif code < 0x10000:
            out.append("\\u%04x" % code)
        else:
            out.append("\\U%08x" % code)
    out.append('"')
    return "".join(out)


def show(value):
    """One environ value as the Go demo prints it; a stream as its type."""
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return "[" + " ".join(str(v) for v in value) + "]"
    kind = type(value)
    return kind.__module__ + "." + kind.__qualname__


def read_body(environ, limit=None):
    """Read the body without reading past it (PEP 3333): CONTENT_LENGTH
    bytes, or, for a chunked body the server de-chunks, up to its end."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH", "")
    if length.strip().isdigit():
        want = int(length)
        return stream.read(want if limit is None else min(want, limit))
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return stream.read() if limit is None else stream.read(limit)
    return b""


def echo_environ(environ, start_response):
    error = None
    try:
        body = read_body(environ)
    except Exception as exc:  # the server refused the body as it was read
        body, error = b"", exc
    lines = ["%s = %s\n" % (key, show(environ[key])) for key in sorted(environ)]
    lines.append("body: %d bytes read from wsgi.input\n" % len(body))
    if error is not None:
        lines.append("reading it failed: %s\n" % error)
    start_response("200 OK", [TEXT_PLAIN])
    # Non-ASCII environ values are quoted, so the text is ASCII.
    return ["".join(lines).encode("ascii")]


# Step 05: start_response, write() and framing.

def stream(environ, start_response):
    start_response("200 OK", [TEXT_PLAIN])
    return (line for line in [b"one\n", b"two\n", b"three\n"])


def write_then_yield(environ, start_response):
    write = start_response("200 OK", [TEXT_PLAIN])
    write(b"written with write()\n")
    return [b"then yielded from the body\n"]


def sized(environ, start_response):
    parts = [b"three chunks, ", b"one Content-Length ", b"from the app\n"]
    length = sum(len(p) for p in parts)
    start_response("200 OK", [TEXT_PLAIN, ("Content-Length", str(length))])
    return (p for p in parts)


def fail_before_headers(environ, start_response):
    start_response("200 OK", [TEXT_PLAIN])

    def body():
        raise RuntimeError("the demo app failed before its first chunk")
        yield b""  # a generator: the failure comes with the first chunk
    return body()


def fail_after_headers(environ, start_response):
    start_response("200 OK", [TEXT_PLAIN])

    def body():
        yield b"the first chunk went out, then the app failed\n"
        raise RuntimeError("the demo app failed after its first chunk")
    return body()


def step05(environ, start_response):
    app = {
        "/stream": stream,
        "/write": write_then_yield,
        "/sized": sized,
        "/error-before": fail_before_headers,
        "/error-after": fail_after_headers,
    }.get(environ.get("PATH_INFO", ""), echo_environ)
    return app(environ, start_response)


step04 = echo_environ
step01 = hello


# Step 06: a small framework: responses, a router, middleware.

REASONS = {200: "OK", 308: "Permanent Redirect", 400: "Bad Request",
           404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large",
           415: "Unsupported Media Type", 500: "Internal Server Error",
           503: "Service Unavailable"}


def status_line(code):
    return "%d %s" % (code, REASONS[code])


def wire(text):
    """A CGI value (a char per byte, PEP 3333) back to the client's bytes."""
    return text.encode("latin-1")


def html_escape(data):
    """Go's html.EscapeString on bytes."""
    for old, new in ((b"&", b"&amp;"), (b"'", b"&#39;"), (b"<", b"&lt;"),
                     (b">", b"&gt;"), (b'"', b"&#34;")):
        data = data.replace(old, new)
    return data


class Raw:
    """A JSON number kept as its text, as Go's json.Number."""

    def __init__(self, text):
        self.text = text


def go_json(value):
    """Encode as Go's encoding/json does: compact, map keys sorted,
    < > & U+2028 U+2029 escaped, other non-ASCII as UTF-8."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        out = ['"']
        for ch in value:
            code = ord(ch)
            if ch in '"\\':
                out.append("\\" + ch)
            elif ch in "\b\f\n\r\t":
                out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
            elif code < 0x20 or ch in "<>&\u2028\u2029":
                out.append("\\u%04x" % code)
            else:
                out.append(ch)
        return "".join(out) + '"'
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(go_json(k) + ":" + go_json(value[k]) for k in sorted(value)) + "}"
    raise TypeError("go_json: %r" % (value,))


def fixed_response(content_type, body, code=200, extra=()):
    def app(environ, start_response):
        start_response(status_line(code), [("Content-Type", content_type),
                                           ("Content-Length", str(len(body)))] + list(extra))
        return [body]
    return app


def plain_text(text, **kw):
    return fixed_response("text/plain; charset=utf-8", text.encode("utf-8"), **kw)


def html_response(data, **kw):
    return fixed_response("text/html; charset=utf-8", data, **kw)


def json_response(value):
    return fixed_response("application/json", go_json(value).encode("utf-8"))


def wants_json(accept):
    accept = accept.lower()
    return ("application/json" in accept or "+json" in accept) and "text/html" not in accept


def error_page(code, message, extra=()):
    """message is bytes: it may quote the client's path."""
    def app(environ, start_response, exc_info=None):
        if wants_json(environ.get("HTTP_ACCEPT", "")):
            content_type = "application/json"
            # Go's struct order: status, error, message.
            body = ('{"status":%d,"error":%s,"message":%s}\n' % (
                code, go_json(REASONS[code]), go_json(message.decode("utf-8", "replace")))).encode("utf-8")
        else:
            content_type = "text/html; charset=utf-8"
            title = html_escape(status_line(code).encode("ascii"))
            body = (b'<!doctype html>\n<html><head><meta charset="utf-8"><title>' + title +
                    b"</title></head>\n<body><h1>" + title + b"</h1>\n<p>" + html_escape(message) +
                    b"</p>\n</body></html>\n")
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))] + list(extra)
        start_response(status_line(code), headers, exc_info)
        return [body]
    return app


def path_url(path):
    """Go's url.URL{Path: path}.EscapedPath(), for the paths a route has."""
    return urllib.parse.quote(path, safe="/$&+,:;=@-._~")


class Router:
    def __init__(self):
        self.routes = []  # (method or "", segments, app)
        self.mounts = []  # (prefix, app)

    def route(self, pattern, app):
        method, _, path = pattern.rpartition(" ")
        segments = path[1:].split("/")
        self.routes.append((method, segments, app))
        # Literal segments before wildcards, a method before "any method".
        self.routes.sort(key=lambda r: ([s.startswith("{") for s in r[1]], r[0] == ""))

    def mount(self, prefix, app):
        self.mounts.append((prefix, app))

    @staticmethod
    def match(segments, path):
        if not path.startswith(b"/"):
            return None
        parts = path[1:].split(b"/")
        if len(parts) != len(segments):
            return None
        named = {}
        for seg, part in zip(segments, parts):
            if seg.startswith("{"):
                if not part:
                    return None
                named[seg[1:-1]] = part
            elif part != seg.encode("ascii"):
                return None
        return named

    def __call__(self, environ, start_response):
        path_info = environ.get("PATH_INFO", "")
        if path_info == "*" and environ["REQUEST_METHOD"] == "OPTIONS":
            # OPTIONS * asks about the server: the methods its routes have.
            methods = {m for m, _, _ in self.routes if m}
            if "GET" in methods:
                methods.add("HEAD")
            start_response("200 OK", [("Allow", ", ".join(sorted(methods))), ("Content-Length", "0")])
            return []
        for prefix, app in self.mounts:
            if path_info.startswith(prefix) and path_info[len(prefix):][:1] in ("", "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path_info[len(prefix):]
                return app(environ, start_response)
        path = wire(path_info) or b"/"
        method = environ["REQUEST_METHOD"]
        allowed, head_route = [], None
        for route_method, segments, app in self.routes:
            named = self.match(segments, path)
            if named is None:
                continue
            if route_method in (method, ""):
                return self.serve(app, named, environ, start_response)
            if route_method == "GET" and method == "HEAD" and head_route is None:
                head_route = (app, named)
            else:
                allowed.append(route_method)
        if head_route:
            return self.serve(head_route[0], head_route[1], environ, start_response)
        full_path = wire(environ.get("SCRIPT_NAME", "")) + path
        if allowed:
            if "GET" in allowed:
                allowed.append("HEAD")
            allow = ", ".join(sorted(set(allowed)))
            message = method.encode("latin-1") + b" is not allowed at " + full_path + b"; try " + allow.encode() + b"."
            return error_page(405, message, [("Allow", allow)])(environ, start_response)
        other = path[:-1] if path.endswith(b"/") else path + b"/"
        if other and not other.startswith(b"//") and any(self.match(r[1], other) is not None for r in self.routes):
            location = path_url(other.decode("latin-1"))
            if environ.get("QUERY_STRING"):
                location += "?" + environ["QUERY_STRING"]
            return redirect(308, location)(environ, start_response)
        return error_page(404, b"Nothing is at " + full_path + b".")(environ, start_response)

    @staticmethod
    def serve(app, named, environ, start_response):
        if named:
            environ["wsgiorg.routing_args"] = ((), {k: v.decode("utf-8", "replace") for k, v in named.items()})
            environ["course.params"] = named  # the bytes, for HTML
        return app(environ, start_response)


def redirect(code, location):
    def app(environ, start_response):
        target = location
        if location.startswith("/") and not location.startswith("//"):
            target = path_url(environ.get("SCRIPT_NAME", "")) + location
        body = ("Redirecting to " + target + "\n").encode("ascii")
        start_response(status_line(code), [("Location", target), TEXT_PLAIN,
                                           ("Content-Length", str(len(body)))])
        return [body]
    return app


MAX_BODY = 64 << 10


def hello_name(environ, start_response):
    name = environ["course.params"]["name"]
    return html_response(b"<h1>Hello, " + html_escape(name) + b"!</h1>")(environ, start_response)


def echo_json(environ, start_response):
    media_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return error_page(415, b"Send the body as application/json.")(environ, start_response)
    length = environ.get("CONTENT_LENGTH", "")
    too_large = error_page(413, b"The request body is larger than %d bytes." % MAX_BODY)
    if length.isdigit() and int(length) > MAX_BODY:
        return too_large(environ, start_response)
    data = read_body(environ, MAX_BODY + 1)
    if len(data) > MAX_BODY:
        return too_large(environ, start_response)
    text = data.decode("utf-8", "replace").lstrip(" \t\r\n")
    if not text:
        return error_page(400, b"The body is empty; send a JSON value.")(environ, start_response)

    def refuse(name):
        raise ValueError("%s is not JSON" % name)
    decoder = json.JSONDecoder(parse_float=Raw, parse_int=Raw, parse_constant=refuse)
    try:
        value, end = decoder.raw_decode(text)
    except ValueError as exc:
        message = "The body is not valid JSON: %s" % exc
        return error_page(400, message.encode("utf-8"))(environ, start_response)
    if text[end:].strip(" \t\r\n"):
        return error_page(400, b"The body has more after its JSON value.")(environ, start_response)
    return json_response(value)(environ, start_response)


def is_request_id(value):
    return 0 < len(value) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_.") for c in value)


def new_request_id():
    return "%016x" % (random.getrandbits(64) | 1 << 63)


def request_id(app):
    def middleware(environ, start_response):
        if "request.id" in environ:
            # A server in front gave the request its id and sends the
            # X-Request-Id header itself (step 08): a second would repeat it.
            return app(environ, start_response)
        rid = environ.get("HTTP_X_REQUEST_ID", "")
        if not is_request_id(rid):
            rid = new_request_id()
        environ["request.id"] = rid

        def start(status, headers, exc_info=None):
            return start_response(status, list(headers) + [("X-Request-Id", rid)], exc_info)
        return app(environ, start)
    return middleware


def recover(app):
    """An exception becomes the 500 page, through start_response with
    exc_info: replaced if no header went out, re-raised by the server if
    one did. A list (a body known in full) passes through as a list."""
    def middleware(environ, start_response):
        def failure():
            print("error:", sys.exc_info()[1], file=environ["wsgi.errors"])
            return error_page(500, b"The application failed.")(environ, start_response, sys.exc_info())
        try:
            result = app(environ, start_response)
        except Exception:
            return failure()
        if isinstance(result, list):
            return result

        def body():
            try:
                for chunk in result:
                    yield chunk
            except Exception:
                yield from failure()
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
        return body()
    return middleware


def routes():
    app = Router()
    app.route("GET /", plain_text("Hello, World!"))
    app.route("GET /html", html_response(b"<h1>Hello, World!</h1>"))
    app.route("GET /json", json_response({"message": "Hello, World!"}))
    app.route("GET /hello/{name}", hello_name)
    app.route("POST /echo", echo_json)
    app.route("/stream", stream)
    app.route("/write", write_then_yield)
    app.route("/sized", sized)
    app.route("/error-before", fail_before_headers)
    app.route("/error-after", fail_after_headers)
    app.mount("/environ", echo_environ)
    return app


def with_middleware(app):
    return request_id(recover(app))


step06 = with_middleware(routes())


# Step 07: the routes a shipped server adds.

def slow(environ, start_response):
    write = start_response("200 OK", [TEXT_PLAIN])
    write(b"started\n")

    def rest():
        time.sleep(1)
        yield b"finished 1s later\n"
    return rest()


def routes07():
    app = routes()
    app.route("GET /healthz", plain_text("ok\n", extra=[("Cache-Control", "no-store")]))
    app.route("GET /slow", slow)
    return app


step07 = with_middleware(routes07())


if __name__ == "__main__":
    # python3 course_apps.py STEP [HOST:PORT]: serve with wsgiref.simple_server.
    from wsgiref.simple_server import make_server
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in ("step01", "step04", "step05", "step06", "step07"):
        sys.exit("usage: python3 course_apps.py step01|step04|step05|step06|step07 [HOST:PORT]")
    host, _, port = (sys.argv[2] if len(sys.argv) == 3 else "127.0.0.1:8000").rpartition(":")
    server = make_server(host, int(port), globals()[sys.argv[1]])
    print("%s serving on http://%s:%d/" % (sys.argv[1], host, server.server_port), flush=True)
    server.serve_forever()
