"""`callsla export | report | export-log | callbacks`: the auditors' and help desk's
sub-commands."""

from __future__ import annotations

import argparse
import asyncio
import errno
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.core.charter import Charter, load_charter
from monitor.core.settings import Settings, settings_from_sources
from monitor.core.terminal_text import for_terminal
from monitor.ingest.callback_closing import CallbackError
from monitor.reports.errors import ReportError
from monitor.reports.formats import EXPORT_FORMATS, REPORT_FORMATS
from monitor.reports.masking import check_unmask_request
from monitor.reports.periods import day_range, parse_day, parse_quarter
from monitor.store import Store, StoreError, open_store

Run = Callable[[argparse.Namespace], int]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db-url", default=None, help="overrides $CALLSLA_DB_URL")
    parser.add_argument("--charter", default=None, help="overrides $CALLSLA_CHARTER")
    parser.add_argument("--pbx", default=None,
                        help="only this PBX's records (default: every PBX in the store)")


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[tuple[Settings, Charter, Store]]:
    settings = settings_from_sources(args)
    charter = load_charter(settings.charter)
    if settings.db_url.startswith("sqlite:///"):
        path = Path(settings.db_url.removeprefix("sqlite:///"))
        if str(path) != ":memory:" and not path.is_file():
            raise ReportError(f"no store at {path}: set CALLSLA_DB_URL or --db-url")
    store = open_store(settings.db_url)
    try:
        yield settings, charter, store
    finally:
        store.close()


def _guarded(run: Run) -> Run:
    """Bad input and unusable destinations end in one line on stderr and exit status 2."""
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (ReportError, CallbackError, StoreError) as exc:
            print(f"callsla: {for_terminal(str(exc))}", file=sys.stderr)
            return 2
        except OSError as exc:
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            print(f"callsla: {'disk full' if full else 'cannot write'}: {exc}", file=sys.stderr)
            return 2
    return guarded


def _run_export(args: argparse.Namespace) -> int:
    # Heavy imports (pandas, pyarrow, openpyxl) only when a command needs them.
    from monitor.reports.export import ExportRequest, export_calls
    from monitor.reports.report_store import ReportStore

    first = parse_day(args.date_from, option="--from")
    last = parse_day(args.date_to, option="--to")
    reason = check_unmask_request(unmasked=args.unmasked, reason=args.reason)
    with _opened(args) as (_settings, charter, store):
        request = ExportRequest(period=day_range(first, last, charter.timezone),
                                fmt=args.format, out=Path(args.out),
                                department=args.department, queue=args.queue,
                                masked=not args.unmasked, reason=reason, per=args.per,
                                progress=not args.quiet and sys.stderr.isatty())
        entry = export_calls(ReportStore(store, pbx=args.pbx), charter, request)
    masking = "masked" if entry.masked else "UNMASKED"
    print(f"{entry.row_count} {args.per}s -> {entry.path} ({masking})")
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from monitor.reports.report import report_and_log
    from monitor.reports.report_store import ReportStore

    with _opened(args) as (_settings, charter, store):
        period = parse_quarter(args.quarter, charter.timezone)
        out = Path(args.out or f"callsla-report-{period.label}.{args.format}")
        report_and_log(ReportStore(store, pbx=args.pbx), charter, period, args.format, out)
    print(f"report {period.label} -> {out}")
    return 0


def _run_export_log_verify(args: argparse.Namespace) -> int:
    """Exit 0 when the chain is intact, 1 when an entry was edited or deleted."""
    from monitor.reports.export_log import verify_chain
    from monitor.reports.report_store import ReportStore

    with _opened(args) as (_settings, _charter, store):
        check = verify_chain(ReportStore(store).whole_export_log())
    for problem in check.problems:
        print(f"callsla: export log: {for_terminal(problem)}", file=sys.stderr)
    head = f"newest #{check.head.seq} sha256 {check.head.entry_hash}" if check.head else "empty"
    state = "BROKEN" if check.problems else "intact"
    print(f"export log {state}: {check.chained} chained entries ({head})"
          + (f"; {check.unchained} from before the chain, not verifiable" if check.unchained
             else ""))
    return 1 if check.problems else 0


def _run_callbacks(args: argparse.Namespace) -> int:
    from monitor.ingest.callback_closing import find_callback
    from monitor.reports import callbacks

    with _opened(args) as (settings, charter, store):
        zone = charter.timezone
        if args.action == "close":
            return _close_callback(args, settings, charter, store)
        if args.action == "list":
            lines = callbacks.register(store, which=args.status, department=args.department,
                                       pbx=args.pbx)
            print(callbacks.format_register(lines, zone))
        else:
            print(callbacks.format_callback(find_callback(store, args.callback_id, pbx=args.pbx),
                                            zone))
    return 0


def _close_callback(args: argparse.Namespace, settings: Settings, charter: Charter,
                    store: Store) -> int:
    """Close in the store and, with CALLSLA_MQTT_URL, publish `callback_closed` through the
    outbox; exit 1 if the broker did not take it (it waits for `callsla events send`)."""
    from agi_scripts.outbox import Outbox, outbox_folder, send_pending
    from monitor.ingest.callback_closing import close_callback
    from monitor.reports.callbacks import format_callback

    now = datetime.now(charter.timezone)
    done = _aware(args.done_at, "--done-at") if args.done_at else now
    informed = (now if args.informed_at == "now" else
                _aware(args.informed_at, "--informed-at") if args.informed_at else
                done if args.informed else None)
    endpoint = settings.publisher_mqtt
    outbox = Outbox(outbox_folder(args.outbox)) if endpoint is not None else None
    closed = close_callback(store, args.callback_id, action_taken=args.text, done_at=done,
                            caller_informed_at=informed, pbx=args.pbx, now=now,
                            publish=outbox.put if outbox is not None else None)
    print(format_callback(closed, charter.timezone))
    if outbox is None or endpoint is None:
        return 0
    _sent, left = asyncio.run(send_pending(
        outbox, endpoint, timeout=10.0,
        client_id=settings.mqtt_client_id("close", socket.gethostname())))
    if left:
        print(f"callsla: closed, but {left} events still wait in {outbox.folder} for the "
              "MQTT broker: `callsla events send` publishes them", file=sys.stderr)
        return 1
    return 0


def _aware(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{option} {text!r} is not a time like 2026-08-03T10:15+08:00") from None
    if value.tzinfo is None:
        raise ReportError(f"{option} {text!r} needs a zone offset, e.g. +08:00")
    return value


def add_commands(commands: Any) -> None:
    """Register export, report and callbacks on `callsla`'s sub-command parser."""
    export = commands.add_parser("export", help="export call legs for auditors")
    _common(export)
    export.add_argument("--from", dest="date_from", required=True, metavar="DATE")
    export.add_argument("--to", dest="date_to", required=True, metavar="DATE",
                        help="last day, inclusive")
    export.add_argument("--department", default=None)
    export.add_argument("--queue", default=None)
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True)
    export.add_argument("--per", choices=("leg", "call"), default="leg",
                        help="one row per ringing leg (default) or per call")
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--unmasked", action="store_true",
                        help="include full caller numbers and names (needs --reason)")
    export.add_argument("--reason", default=None, help="why an unmasked export is needed")
    export.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    export.set_defaults(run=_guarded(_run_export))

    report = commands.add_parser("report", help="the quarterly charter-compliance report")
    _common(report)
    report.add_argument("--quarter", required=True, help="e.g. 2026Q3")
    report.add_argument("--format", choices=REPORT_FORMATS, default="pdf")
    report.add_argument("--out", default=None, metavar="FILE")
    report.set_defaults(run=_guarded(_run_report))

    export_log = commands.add_parser("export-log", help="the export log (verify)")
    log_actions = export_log.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = log_actions.add_parser(
        "verify", help="check the hash chain: exit 1 if an entry was edited or deleted")
    _common(verify)
    verify.set_defaults(run=_guarded(_run_export_log_verify))

    register = commands.add_parser("callbacks", help="the callback register (list|show|close)")
    actions = register.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="open, overdue or closed callbacks")
    listing.add_argument("--status", choices=("open", "overdue", "closed", "all"),
                         default="open")
    listing.add_argument("--department", default=None)
    show = actions.add_parser("show", help="one callback's record (a)-(f)")
    show.add_argument("callback_id")
    close = actions.add_parser(
        "close", help="record the action taken; closes the callback and publishes "
        "callback_closed (with CALLSLA_MQTT_URL)")
    close.add_argument("callback_id")
    close.add_argument("--action", dest="text", required=True, help="what was done (e)")
    close.add_argument("--done-at", default=None, help="when (default: now)")
    close.add_argument("--informed", action="store_true",
                       help="the caller was informed when it was done")
    close.add_argument("--informed-at", default=None,
                       help="when the caller was informed: ISO time with zone, or 'now'")
    close.add_argument("--mqtt-url", default=None, help="overrides $CALLSLA_MQTT_URL")
    close.add_argument("--outbox", default=None, help="overrides $CALLSLA_OUTBOX")
    for sub in (listing, show, close):
        _common(sub)
    register.set_defaults(run=_guarded(_run_callbacks))
