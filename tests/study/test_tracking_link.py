"""The tracking link on a real HTTP endpoint on loopback: a write that fails while the server is away is
remembered (not raised), writes are skipped without waiting while it stays away, the server's return is
noticed by a probe at most every PROBE_EVERY_S; a failing write to a server that answers is a real error."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from study.tracking_link import PROBE_EVERY_S, TrackingLink


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    server.server_close()  # reserve a port nobody listens on yet
    yield server.server_address[1]


def _serve(port: int) -> http.server.HTTPServer:
    server = http.server.HTTPServer(("127.0.0.1", port), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _boom() -> None:
    raise ConnectionError("connection refused")


def _bad() -> None:
    raise ValueError("bad param")


def test_an_outage_is_remembered_and_its_end_noticed(port: int) -> None:
    said: list[str] = []
    now = [0.0]
    link = TrackingLink(f"http://127.0.0.1:{port}", said.append, clock=lambda: now[0])
    assert link.write("a", lambda: None)  # up (never probed: the write went through)
    assert not link.write("b", _boom)  # nobody answers /health: an outage, not an error
    assert link.behind == {"b"} and "MLflow unreachable" in said[-1]
    assert not link.write("c", lambda: pytest.fail("no write is tried while the server is away"))
    assert link.behind == {"b", "c"} and link.status().startswith("MLflow down 0s, 2 trials")
    server = _serve(port)
    try:
        now[0] = PROBE_EVERY_S / 2
        assert not link.back()  # not probed again yet
        now[0] = PROBE_EVERY_S + 1
        assert link.back() and "MLflow back after 11s; sending 2 trials" in said[-1]
        assert link.write("d", lambda: None) and link.status() == ""
        with pytest.raises(ValueError, match="bad param"):
            link.write("e", _bad)  # the server answers and the error is not a connection's: it surfaces
        assert not link.write("f", _boom)  # refused while /health answers (a restart in between): an outage
    finally:
        server.shutdown()
        server.server_close()


def test_a_local_store_is_written_directly(tmp_path) -> None:
    link = TrackingLink(f"sqlite:///{tmp_path / 'm.db'}", print)
    with pytest.raises(ConnectionError):
        link.write("a", _boom)


def test_what_counts_as_unreachable() -> None:
    from mlflow.exceptions import MlflowException

    from study.tracking_link import unreachable

    wrapped = MlflowException("API request to http://h/api failed with exception HTTPConnectionPool(host='h'): "
                              "Max retries exceeded with url: /api (Caused by NewConnectionError)")  # fmt: skip
    assert unreachable(wrapped) and unreachable(TimeoutError()) and not unreachable(ValueError("bad param"))
    assert not unreachable(MlflowException("RESOURCE_DOES_NOT_EXIST: run 'x' not found"))
