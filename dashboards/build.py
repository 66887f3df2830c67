"""`python -m dashboards.build [--check]`: write (or check) the committed dashboard JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import DASHBOARD_DIR, audit, trends, wallboard

BUILDERS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "callsla-wallboard.json": wallboard.build,
    "callsla-trends.json": trends.build,
    "callsla-audit.json": audit.build,
}


def render(build: Callable[[], dashboard.Dashboard]) -> str:
    """JSON text, stable (sorted keys, panel ids in order) so a diff shows only real changes."""
    board = build().build()
    for number, panel in enumerate(board.panels or [], start=1):
        panel.id_val = number
    return json.dumps(board, cls=JSONEncoder, indent=2, sort_keys=True,
                      ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {name: render(build) for name, build in BUILDERS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.build", description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="fail if the committed JSON differs from what the code builds")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render_all().items():
        path = DASHBOARD_DIR / name
        if args.check:
            if not path.is_file() or path.read_text("utf-8") != text:
                stale.append(name)
        else:
            DASHBOARD_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"stale: {', '.join(stale)}; run `python -m dashboards.build`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
