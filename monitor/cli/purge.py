"""`callsla purge`: remove call records older than the charter's retention period (PDPA 2010).

A dry run by default: it counts what would go. `--yes` deletes, in committed batches, logging
progress. The work is the store's (`Store.purge_older_than`) and the outbox's
(`Outbox.older_than`); this module parses arguments and reports.
"""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.core.charter import load_charter
from monitor.core.settings import settings_from_sources
from monitor.store import StoreError, open_store

log = logging.getLogger("callsla.purge")


def _older_than_days(args: argparse.Namespace, charter_days: int | None) -> int:
    days: int | None = args.older_than if args.older_than is not None else charter_days
    if days is None:
        raise StoreError("give --older-than DAYS: the charter sets no retention "
                         "(retention.call_records_days)")
    if days < 1:
        raise StoreError(f"--older-than must be >= 1 day, not {days}")
    return days


def _run_purge(args: argparse.Namespace) -> int:
    from agi_scripts.outbox import Outbox, outbox_folder

    settings = settings_from_sources(args)
    charter = load_charter(settings.charter)
    days = _older_than_days(args, charter.retention_days)
    before = datetime.now(UTC) - timedelta(days=days)
    folder = outbox_folder(args.outbox)
    stale = Outbox(folder).older_than(before) if folder.is_dir() else []
    if settings.db_url.startswith("sqlite:///") and not Path(
            settings.db_url.removeprefix("sqlite:///")).is_file():
        raise StoreError(f"no store at {settings.db_url.removeprefix('sqlite:///')}")
    with open_store(settings.db_url) as store:
        counts = store.count_older_than(before, pbx=args.pbx)
        counts["outbox files"] = len(stale)
        when = before.astimezone(charter.timezone).isoformat(timespec="seconds")
        summary = ", ".join(f"{table} {n}" for table, n in counts.items())
        if not args.yes:
            print(f"dry run: records older than {days} days (before {when}) that would be "
                  f"deleted: {summary}. Run again with --yes to delete them.")
            return 0
        log.info("purging records older than %d days (before %s): %s", days, when, summary)
        done = dict.fromkeys(counts, 0)
        for table, deleted in store.purge_older_than(before, pbx=args.pbx,
                                                     batch_rows=args.batch_rows):
            done[table] += deleted
            log.info("purge %s: %d of %d deleted", table, done[table], counts[table])
    for path in stale:
        path.unlink(missing_ok=True)
    done["outbox files"] = len(stale)
    if stale:
        log.info("purge outbox: %d files deleted from %s", len(stale), folder)
    print(f"deleted records older than {days} days (before {when}): "
          + ", ".join(f"{table} {n}" for table, n in done.items()))
    return 0


def add_commands(commands: Any) -> None:
    """Register `purge` on `callsla`'s sub-command parser."""
    purge = commands.add_parser(
        "purge", help="delete call records older than the retention period (dry run unless "
        "--yes)")
    purge.add_argument("--older-than", type=int, default=None, metavar="DAYS",
                       help="default: the charter's retention.call_records_days")
    purge.add_argument("--yes", action="store_true", help="delete (without it: count only)")
    purge.add_argument("--db-url", default=None, help="overrides $CALLSLA_DB_URL")
    purge.add_argument("--charter", default=None, help="overrides $CALLSLA_CHARTER")
    purge.add_argument("--pbx", default=None, help="only this PBX's records (default: all)")
    purge.add_argument("--outbox", default=None,
                       help="the call-flow outbox to purge too (overrides $CALLSLA_OUTBOX)")
    purge.add_argument("--batch-rows", type=int, default=10_000, help=argparse.SUPPRESS)
    purge.set_defaults(run=_run_purge)
