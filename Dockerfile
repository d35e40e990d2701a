# The course's finished server, step07-docker, in an image of a few MB:
#
#   docker build -t wsgi-course .
#   docker run --rm -p 8081:8081 wsgi-course
#
# Stage 1 compiles a static binary with the official Go image of the
# version in go.work. GO_IMAGE swaps the base image (the course's Docker
# test passes a stand-in built from the local toolchain when no registry
# can be reached).
ARG GO_IMAGE=golang:1.26
FROM ${GO_IMAGE} AS build
WORKDIR /src
# The step is its own module and imports only the standard library; its
# go.mod names ../transcript (for its tests), so that go.mod comes along.
COPY transcript/go.mod transcript/
COPY step07-docker/ step07-docker/
WORKDIR /src/step07-docker
# CGO_ENABLED=0: a static binary that needs no libc in the final image.
# GOWORK=off: build the module alone, as a learner's clone would.
# GOTOOLCHAIN=local: never try to download another Go.
# -trimpath drops this machine's paths from the binary; -s -w its symbols.
RUN CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local \
    go build -trimpath -ldflags='-s -w' -o /step07 .

# Stage 2 is empty but for the binary: no shell, no package manager, no
# libc, nothing to patch but the server itself.
FROM scratch
COPY --from=build /step07 /step07
# A numeric user, so the runtime needs no /etc/passwd to know it is not root.
USER 65532:65532
EXPOSE 8081
# The binary probes itself (a scratch image has no curl): GET /healthz,
# exit 0 or 1. It dials where the server (PID 1) listens: its flags, ADDR or PORT.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/step07", "-healthcheck"]
# The exec form: the server is PID 1 and gets docker stop's SIGTERM itself.
ENTRYPOINT ["/step07"]
