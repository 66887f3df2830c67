"""Backfill: rebuild what happened while the monitor was not listening, from the PBX's own logs."""

from monitor.backfill.queue_log import (
    QueueLogEntry,
    QueueLogError,
    QueueLogReader,
    QueueLogWindow,
    parse_queue_log_line,
)

__all__ = ["QueueLogEntry", "QueueLogError", "QueueLogReader", "QueueLogWindow",
           "parse_queue_log_line"]
