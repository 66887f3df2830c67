"""`callsla dashboards push` against a local HTTP server that records requests (no real Grafana
can run here): valid dashboard JSON goes up once, and the second push sends nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboards import DASHBOARD_DIR
from dashboards.build import BUILDERS
from monitor.cli.main import main


class RecordingGrafana(ThreadingHTTPServer):
    """Answers the few Grafana HTTP API calls the push makes, the way Grafana 11 does."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, dict[str, Any] | None, str]] = []
        self.folders: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def writes(self) -> list[tuple[str, str, dict[str, Any] | None, str]]:
        return [r for r in self.requests if r[0] != "GET"]


class _Handler(BaseHTTPRequestHandler):
    server: RecordingGrafana

    def log_message(self, *_: object) -> None:
        pass

    def _reply(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.requests.append((self.command, self.path, body,
                                     self.headers.get("Authorization", "")))
        return body

    def do_GET(self) -> None:
        self._record()
        if self.path.startswith("/api/folders/"):
            folder = self.server.folders.get(self.path.rsplit("/", 1)[1])
            self._reply(200, folder) if folder else self._reply(404, {"message": "not found"})
        elif self.path.startswith("/api/dashboards/uid/"):
            stored = self.server.dashboards.get(self.path.rsplit("/", 1)[1])
            if stored is None:
                self._reply(404, {"message": "Dashboard not found"})
            else:
                self._reply(200, stored)
        else:
            self._reply(404, {"message": "not found"})

    def do_POST(self) -> None:
        body = self._record()
        assert body is not None
        if self.path == "/api/folders":
            self.server.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"]}
            self._reply(200, self.server.folders[body["uid"]])
        elif self.path == "/api/dashboards/db":
            board = body["dashboard"]
            version = self.server.dashboards.get(board["uid"], {}).get("dashboard", {})
            stored = {**board, "id": 7, "version": int(version.get("version", 0)) + 1}
            self.server.dashboards[board["uid"]] = {
                "dashboard": stored, "meta": {"folderUid": body["folderUid"]}}
            self._reply(200, {"status": "success", "uid": board["uid"],
                              "version": stored["version"]})
        else:
            self._reply(404, {"message": "not found"})


@pytest.fixture
def grafana() -> Iterator[RecordingGrafana]:
    server = RecordingGrafana()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _push(grafana: RecordingGrafana) -> int:
    return main(["dashboards", "push", "--url", grafana.url, "--token", "glsa_test_token"])


def test_first_push_creates_the_folder_and_sends_every_dashboard_once(
        grafana: RecordingGrafana) -> None:
    assert _push(grafana) == 0
    writes = grafana.writes()
    assert writes[0][:2] == ("POST", "/api/folders")
    uploads = [body for method, path, body, _auth in writes if path == "/api/dashboards/db"]
    assert len(uploads) == len(BUILDERS)
    for body in uploads:
        assert body is not None
        assert body["folderUid"] == "callsla"
        assert body["overwrite"] is True
        sent = body["dashboard"]
        committed = json.loads((DASHBOARD_DIR / f"{sent['uid']}.json").read_text("utf-8"))
        assert {k: v for k, v in sent.items() if k != "id"} == committed
        assert sent["id"] is None
    assert all(auth == "Bearer glsa_test_token" for *_rest, auth in grafana.requests)


def test_second_push_of_the_same_version_sends_nothing(grafana: RecordingGrafana) -> None:
    assert _push(grafana) == 0
    before = len(grafana.writes())
    assert _push(grafana) == 0
    assert len(grafana.writes()) == before


def test_a_dashboard_changed_in_grafana_is_put_back(grafana: RecordingGrafana) -> None:
    assert _push(grafana) == 0
    grafana.dashboards["callsla-wallboard"]["dashboard"]["title"] = "edited by hand"
    before = len(grafana.writes())
    assert _push(grafana) == 0
    assert [w[1] for w in grafana.writes()[before:]] == ["/api/dashboards/db"]


def test_unreachable_grafana_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboards", "push", "--url", "http://127.0.0.1:9", "--token", "t"]) == 1
    assert "cannot reach Grafana at http://127.0.0.1:9" in capsys.readouterr().err
