"""Upload the committed dashboards into a Grafana folder through grafana-client, idempotently.

Grafana returns a stored dashboard with its own `id` and `version` added; a dashboard whose
JSON is otherwise equal to ours and sits in our folder is left alone, so pushing the same
version twice sends nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from dashboards import DASHBOARD_DIR

GRAFANA_OWN_KEYS = ("id", "version")
NOT_FOUND = 404


class PushError(RuntimeError):
    """Grafana refused or could not be reached; the message says which dashboard and why."""


@dataclass
class PushResult:
    folder_created: bool = False
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def load_dashboards(directory: Path = DASHBOARD_DIR) -> list[dict[str, Any]]:
    boards = []
    for path in sorted(directory.glob("*.json")):
        board: dict[str, Any] = json.loads(path.read_text("utf-8"))
        if not board.get("uid"):
            raise PushError(f"{path.name} has no uid: Grafana could not update it in place")
        boards.append(board)
    if not boards:
        raise PushError(f"no dashboard JSON in {directory}")
    return boards


def _comparable(board: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in board.items() if k not in GRAFANA_OWN_KEYS}


def _get_or_none(call: Any, *args: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = call(*args)
    except GrafanaClientError as exc:
        if exc.status_code == NOT_FOUND:
            return None
        raise
    return found


def push_dashboards(api: GrafanaApi, boards: list[dict[str, Any]], *, folder_uid: str = "callsla",
                    folder_title: str = "callsla") -> PushResult:
    """Create the folder if missing, then upload each dashboard that differs from Grafana's."""
    result = PushResult()
    # grafana-client's element methods are untyped: this is the one place we call them.
    folders: Any = api.folder
    dashboards: Any = api.dashboard
    try:
        if _get_or_none(folders.get_folder, folder_uid) is None:
            folders.create_folder(folder_title, uid=folder_uid)
            result.folder_created = True
        for board in boards:
            stored = _get_or_none(dashboards.get_dashboard, board["uid"])
            if (stored is not None
                    and stored.get("meta", {}).get("folderUid") == folder_uid
                    and _comparable(stored.get("dashboard", {})) == _comparable(board)):
                result.unchanged.append(board["uid"])
                continue
            dashboards.update_dashboard({
                "dashboard": {**_comparable(board), "id": None},
                "folderUid": folder_uid,
                "overwrite": True,
                "message": "callsla dashboards push",
            })
            result.uploaded.append(board["uid"])
    except GrafanaException as exc:
        raise PushError(f"Grafana at {api.url}: {exc.message}") from exc
    except OSError as exc:
        raise PushError(f"cannot reach Grafana at {api.url}: {exc}") from exc
    return result
