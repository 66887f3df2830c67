"""The built-in wallboard page served by the monitor, for sites without Grafana."""

from monitor.live.wallboard.board import Wallboard
from monitor.live.wallboard.figures import WallboardFigures

__all__ = ["Wallboard", "WallboardFigures"]
