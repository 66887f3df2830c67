"""The built-in wallboard page served by the monitor, for sites without Grafana."""

from monitor.wallboard.board import Wallboard
from monitor.wallboard.figures import WallboardFigures

__all__ = ["Wallboard", "WallboardFigures"]
