"""The web console (issue 12): accounts, sessions and the help desk's pages, on the monitor's
aiohttp server."""

from monitor.live.console.app import Console, ConsoleSettings
from monitor.live.console.pages import console_routes

__all__ = ["Console", "ConsoleSettings", "console_routes"]
