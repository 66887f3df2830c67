"""Malformed HTTP requests counted as bad input, not logged with a traceback each.

aiohttp logs every request it cannot parse (a bad request line, header or URL) at ERROR with
a full traceback: anyone who reaches the port can fill the monitor's log. The server's logger
goes through this filter: such a record becomes one `callsla_monitor_bad_input_total
{source="http"}` count and at most one short line per kind a minute; any other record (a
handler's own exception, a real 500) is logged as before.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError

from monitor.core.bad_input import BadInputLog


class BadRequestFilter(logging.Filter):
    def __init__(self, bad_input: BadInputLog) -> None:
        super().__init__()
        self.bad_input = bad_input

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError) or not 400 <= (error.code or 400) < 500:
            return True
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        self.bad_input.report("http", type(error).__name__.lower(),
                              f"{error.code} from {peer}: {error.message}")
        return False


def request_logger(bad_input: BadInputLog) -> logging.Logger:
    """A logger for one server's aiohttp protocol: behind the filter, then as `aiohttp.server`
    (made directly, not registered by name, so each server has its own filter)."""
    logger = logging.Logger("aiohttp.server")
    logger.parent = logging.getLogger("aiohttp.server")
    logger.addFilter(BadRequestFilter(bad_input))
    return logger
