"""The benchmark's app (loadtest/main.go): Flask answering GET / with a
short text, the same for every server it is measured on."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
