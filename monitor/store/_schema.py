"""The store's schema as numbered migrations; each is applied once and recorded in a version table.

Rules (other code builds on these tables): a new version only adds tables, columns or indexes;
never rename or drop. Times are TEXT (UTC ISO 8601) in SQLite and TIMESTAMPTZ in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.store._dialect import Connection, Dialect
from monitor.store._errors import SchemaTooNewError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: Callable[[Dialect], list[str]]


def _v1(d: Dialect) -> list[str]:
    t, f = d.time_type, d.float_type
    return [
        f"""CREATE TABLE call_legs (
            pbx TEXT NOT NULL, leg_id TEXT NOT NULL, call_id TEXT NOT NULL,
            uniqueid TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL, offered_at {t} NOT NULL,
            caller_number TEXT NOT NULL DEFAULT '', caller_name TEXT NOT NULL DEFAULT '',
            queue TEXT NOT NULL DEFAULT '', department TEXT NOT NULL DEFAULT '',
            officer TEXT NOT NULL DEFAULT '', answered_at {t}, ended_at {t},
            answered_by TEXT NOT NULL DEFAULT '', outcome TEXT NOT NULL,
            missed_cause TEXT, returned_from TEXT NOT NULL DEFAULT '',
            voicemail INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL,
            answer_wait_seconds {f}, updated_at {t} NOT NULL,
            PRIMARY KEY (pbx, leg_id))""",
        "CREATE INDEX call_legs_offered ON call_legs (offered_at, pbx)",
        "CREATE INDEX call_legs_call ON call_legs (call_id)",
        "CREATE INDEX call_legs_open ON call_legs (pbx, outcome)",
        f"""CREATE TABLE callbacks (
            pbx TEXT NOT NULL, callback_id TEXT NOT NULL, call_id TEXT NOT NULL,
            officer TEXT NOT NULL, department TEXT NOT NULL, caller_name TEXT NOT NULL,
            contacted_at {t} NOT NULL, caller_number TEXT NOT NULL, matter TEXT NOT NULL,
            due_at {t} NOT NULL, action_taken TEXT NOT NULL DEFAULT '', done_at {t},
            caller_informed_at {t}, status TEXT NOT NULL, updated_at {t} NOT NULL,
            PRIMARY KEY (pbx, callback_id))""",
        "CREATE INDEX callbacks_status ON callbacks (status, due_at)",
        # Every MQTT call-flow event once (its event_id dedupes QoS 1 redelivery), kept for audit.
        f"""CREATE TABLE call_events (
            pbx TEXT NOT NULL, event_id TEXT NOT NULL, source TEXT NOT NULL,
            type TEXT NOT NULL, call_id TEXT NOT NULL, occurred_at {t} NOT NULL,
            payload TEXT NOT NULL, received_at {t} NOT NULL,
            PRIMARY KEY (pbx, event_id))""",
        "CREATE INDEX call_events_time ON call_events (occurred_at, type)",
        f"""CREATE TABLE status_announcements (
            pbx TEXT NOT NULL, event_id TEXT NOT NULL, call_id TEXT NOT NULL,
            uniqueid TEXT NOT NULL, department TEXT NOT NULL, officer TEXT NOT NULL,
            announced_at {t} NOT NULL, position INTEGER NOT NULL, waited_seconds {f} NOT NULL,
            interval_seconds {f}, PRIMARY KEY (pbx, event_id))""",
        "CREATE INDEX status_announcements_time ON status_announcements (announced_at)",
        # How far each backfill source has been read (e.g. a byte offset into queue_log).
        f"""CREATE TABLE backfill_marks (
            pbx TEXT NOT NULL, source TEXT NOT NULL, position TEXT NOT NULL,
            read_until {t}, updated_at {t} NOT NULL, PRIMARY KEY (pbx, source))""",
    ]


def _v2(d: Dialect) -> list[str]:
    # Who took records out, when, for which range, masked or not (PDPA 2010): the reports'
    # export log. Before this version the reports created the table themselves, outside the
    # migrations; IF NOT EXISTS keeps such a table and its rows as they are.
    return [
        f"""CREATE TABLE IF NOT EXISTS export_log (
            export_id TEXT PRIMARY KEY, exported_at {d.time_type} NOT NULL,
            exported_by TEXT NOT NULL, host TEXT NOT NULL, kind TEXT NOT NULL,
            first_day TEXT NOT NULL, last_day TEXT NOT NULL, department TEXT NOT NULL,
            queue TEXT NOT NULL, format TEXT NOT NULL, path TEXT NOT NULL,
            row_count INTEGER NOT NULL, masked INTEGER NOT NULL, reason TEXT NOT NULL)""",
    ]


def _v3(d: Dialect) -> list[str]:
    # Every phone of a receptionist or officer rung for a leg, with how the ring ended
    # (issue 9): what /metrics' callsla_person_rings_total is rebuilt from after a restart
    # and what the quarterly report's per-person section counts. Written in the commit of
    # the leg change that ended the ring; ring_id is unique within the leg.
    return [
        f"""CREATE TABLE person_rings (
            pbx TEXT NOT NULL, leg_id TEXT NOT NULL, ring_id TEXT NOT NULL,
            person TEXT NOT NULL, result TEXT NOT NULL, ended_at {d.time_type} NOT NULL,
            answer_wait_seconds {d.float_type}, PRIMARY KEY (pbx, leg_id, ring_id))""",
        "CREATE INDEX person_rings_person ON person_rings (pbx, person, result)",
    ]


def _v4(_d: Dialect) -> list[str]:
    # The export log becomes a hash chain: entry n stores the hash of entry n-1 and its own
    # hash over both (monitor/reports/export_log.py), so an edited or deleted entry shows.
    # `seq` is unique: two exports appending at once cannot fork the chain (one retries).
    # Entries from before this version keep seq NULL and are reported as unchained.
    return [
        "ALTER TABLE export_log ADD COLUMN seq INTEGER",
        "ALTER TABLE export_log ADD COLUMN previous_hash TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE export_log ADD COLUMN entry_hash TEXT NOT NULL DEFAULT ''",
        "CREATE UNIQUE INDEX export_log_seq ON export_log (seq)",
    ]


def _v5(d: Dialect) -> list[str]:
    # The web console's accounts (issue 12): a login name, a role, an argon2 hash. An account
    # is disabled, never deleted, so the name of who closed a callback keeps its meaning.
    t = d.time_type
    return [
        f"""CREATE TABLE accounts (
            username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '', disabled INTEGER NOT NULL DEFAULT 0,
            created_at {t} NOT NULL, updated_at {t} NOT NULL)""",
    ]


def _v6(_d: Dialect) -> list[str]:
    # Status messages at the front desk (issue 9): app_queue's announcements, measured from AMI,
    # carry the queue instead of a department and officer.
    return ["ALTER TABLE status_announcements ADD COLUMN queue TEXT NOT NULL DEFAULT ''"]


def _v7(d: Dialect) -> list[str]:
    # The console's API tokens (issue 12): only a token's SHA-256 is kept; a token is revoked,
    # never deleted, so what it did keeps a name.
    return [
        f"""CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE,
            username TEXT NOT NULL REFERENCES accounts (username), label TEXT NOT NULL DEFAULT '',
            created_at {d.time_type} NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)""",
    ]


def _v8(d: Dialect) -> list[str]:
    # Service recovery (issue 12): each missed caller the help desk rang back, who did, when
    # and with what outcome. Caller data: purged with the call legs (PDPA 2010).
    return [
        f"""CREATE TABLE ring_backs (
            pbx TEXT NOT NULL, ring_back_id TEXT NOT NULL, caller_number TEXT NOT NULL,
            rung_at {d.time_type} NOT NULL, outcome TEXT NOT NULL, rung_by TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '', PRIMARY KEY (pbx, ring_back_id))""",
        "CREATE INDEX ring_backs_time ON ring_backs (pbx, rung_at)",
    ]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "call legs, callbacks, call-flow events, status announcements, backfill marks",
              _v1),
    Migration(2, "export log (kept if the reports made it before)", _v2),
    Migration(3, "person rings (per receptionist and officer)", _v3),
    Migration(4, "export log hash chain (seq, previous_hash, entry_hash)", _v4),
    Migration(5, "console accounts (user name, role, password hash)", _v5),
    Migration(6, "the queue of a status message (the front desk's, from AMI)", _v6),
    Migration(7, "API tokens (hashed) of console accounts", _v7),
    Migration(8, "ring-backs of missed callers (service recovery)", _v8),
)
LATEST = MIGRATIONS[-1].version


def migrate(conn: Connection) -> int:
    """Bring the database to LATEST; concurrent openers serialise on a lock. Returns the version."""
    d = conn.dialect
    if d.name == "postgresql":
        conn.execute("SELECT pg_advisory_xact_lock(7243001)")
    conn.execute(f"""CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY, description TEXT NOT NULL,
        applied_at {d.time_type} NOT NULL)""")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    current = int(row[0]) if row and row[0] is not None else 0
    if current > LATEST:
        conn.rollback()
        raise SchemaTooNewError(
            f"store schema is version {current}, this callsla knows up to {LATEST}: upgrade callsla"
        )
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        for statement in migration.statements(d):
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version, description, applied_at)"
                     " VALUES (?, ?, ?)",
                     (migration.version, migration.description, d.time_param(datetime.now(UTC))))
        current = migration.version
    conn.commit()
    return current
