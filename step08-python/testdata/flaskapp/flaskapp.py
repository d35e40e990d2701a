"""A small Flask app for step 08's real-app tests (realapps_test.go).

    go run ./step08-python -python /usr/bin/python3 \
        -dir step08-python/testdata/flaskapp -app flaskapp:app

Each route shows one thing a real framework does through the worker:
routing with a URL variable, JSON in and out, a form POST, a response
streamed from a generator, an exception Flask turns into a 500, and an
upload read in pieces from wsgi.input (request.stream), never whole.
"""

import hashlib

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.get("/")
def index():
    return "Hello from Flask\n"


@app.get("/hello/<name>")
def hello(name):
    return f"Hello, {name}!\n"


@app.post("/json")
def echo_json():
    data = request.get_json()
    return jsonify(received=data, method=request.method)


@app.post("/form")
def form():
    return f"name={request.form['name']} colour={request.form.get('colour', '')}\n"


@app.get("/stream")
def stream():
    count = int(request.args.get("n", "3"))

    def lines():
        for i in range(count):
            yield f"line {i}\n"

    return Response(lines(), mimetype="text/plain")


@app.get("/boom")
def boom():
    raise RuntimeError("boom: the app failed on purpose")


@app.post("/upload")
def upload():
    # request.stream is wsgi.input, bounded by CONTENT_LENGTH: read it in
    # 64 KiB pieces so the worker never holds the whole body.
    digest = hashlib.sha256()
    size = pieces = 0
    while True:
        piece = request.stream.read(64 * 1024)
        if not piece:
            break
        size += len(piece)
        pieces += 1
        digest.update(piece)
    return jsonify(size=size, sha256=digest.hexdigest(), pieces=pieces)
