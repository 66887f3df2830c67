"""Status messages app_queue plays to callers waiting in a queue, measured from AMI alone.

app_queue stops a waiting caller's music on hold for each periodic (or position) announcement
and starts it again after (measured on Asterisk 22.10, docs/decisions.md "Status messages at the
front desk"). So, for a channel between its `QueueCallerJoin` and `QueueCallerLeave`, a
`MusicOnHoldStop` is a message that started then, if the music stays off for at least
`SHORTEST_MESSAGE_SECONDS` -- until `MusicOnHoldStart`, or until the caller leaves the queue
(`QueueCallerLeave`, `QueueCallerAbandon`, `Hangup`: a caller who hung up during it heard it).
A shorter stop is no message: the music stopped because the caller left (answered, hung up, timed
out: measured <= 1 ms before the leave), or app_queue had no prompt file to play (music back
within 1 ms; logged, as the site then plays no status message at all).

Each message after a caller's first has an interval, start to start, on the PBX's clock: the
`callsla_status_announcement_interval_seconds{queue=...}` the officers' messages share. No
script of ours is needed; a queue with `Queue(...,r)` (ringing instead of music) gives nothing
to measure. Only customer calls count (`customers.py`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.core.records import CallLeg, LegKind, StatusAnnouncement
from monitor.ingest.call_state import AmiEventError, event_time

log = logging.getLogger(__name__)

# Music off for less than this is no message (the caller leaving, or no prompt file): measured
# <= 1 ms for those, 5.99 s and more for our prompts.
SHORTEST_MESSAGE_SECONDS = 0.5
MAX_WAITING = 50_000  # bounded like the call tracker: a lost Hangup cannot grow it
HANDLED_EVENTS = frozenset({"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon",
                            "MusicOnHoldStop", "MusicOnHoldStart", "Hangup"})


@dataclass
class _Waiting:
    """A caller in a queue, and what the monitor knows of the messages they heard."""

    queue: str
    call_id: str
    joined_at: datetime
    customer: bool
    last_message_at: datetime | None = None
    music_stopped_at: datetime | None = None  # not yet known why


class QueueAnnouncements:
    """Pure state: feed AMI events in order, get the status messages they show."""

    def __init__(self, pbx: str, *, is_customer: Callable[[str], bool]) -> None:
        self.pbx = pbx
        self.is_customer = is_customer  # by call id (Linkedid), as the call tracker decides
        self._waiting: OrderedDict[str, _Waiting] = OrderedDict()  # caller uniqueid ->
        self._lines: dict[str, list[str]] = {}  # queue -> uniqueids, position 1 first
        self._silent_queues: set[str] = set()  # queues that played nothing (logged once)

    def resume(self, legs: Iterable[CallLeg],
               last_messages: Mapping[str, datetime] | None = None) -> None:
        """Callers the store holds as waiting in a queue (after a restart), in join order, with
        the start of the last message each heard, so the next one has its interval."""
        last = last_messages or {}
        waiting = [leg for leg in legs if leg.kind in (LegKind.FRONT_DESK, LegKind.RETURNED)
                   and leg.answered_at is None and leg.uniqueid]
        for leg in sorted(waiting, key=lambda leg: leg.offered_at):
            self._add(leg.uniqueid, _Waiting(leg.queue, leg.call_id, leg.offered_at, True,
                                             last.get(leg.uniqueid)), position=None)

    def on_event(self, event: Mapping[str, str]) -> list[StatusAnnouncement]:
        """The messages this event shows to have started (none, or one)."""
        kind = event.get("event", "")
        if kind not in HANDLED_EVENTS:
            return []
        uniqueid = event.get("uniqueid", "")
        if kind == "QueueCallerJoin":
            self._join(uniqueid, event)
            return []
        waiting = self._waiting.get(uniqueid)
        if waiting is None:
            return []
        at = event_time(event)
        if kind == "MusicOnHoldStop":
            waiting.music_stopped_at = at
            return []
        stopped, waiting.music_stopped_at = waiting.music_stopped_at, None
        heard: list[StatusAnnouncement] = []
        if stopped is not None and (at - stopped).total_seconds() >= SHORTEST_MESSAGE_SECONDS:
            heard = self._message(uniqueid, waiting, stopped)
        elif stopped is not None and kind == "MusicOnHoldStart":
            self._nothing_played(waiting.queue)
        if kind != "MusicOnHoldStart":  # the caller left the queue, or hung up
            self._remove(uniqueid)
        return heard

    def reconcile(self, alive: Callable[[str], bool]) -> None:
        """Forget callers whose channels the PBX no longer has (no Hangup was seen)."""
        for uniqueid in [u for u in self._waiting if not alive(u)]:
            self._remove(uniqueid)

    def position(self, uniqueid: str) -> int | None:
        """1 = next in line, None for a caller not waiting."""
        waiting = self._waiting.get(uniqueid)
        if waiting is None:
            return None
        return self._lines[waiting.queue].index(uniqueid) + 1

    def __len__(self) -> int:
        return len(self._waiting)

    def _join(self, uniqueid: str, event: Mapping[str, str]) -> None:
        queue = event.get("queue", "")
        if not uniqueid or not queue:
            raise AmiEventError("QueueCallerJoin: no Uniqueid or Queue")
        call_id = event.get("linkedid") or uniqueid
        try:
            position = int(event.get("position", ""))
        except ValueError:
            position = None
        self._add(uniqueid, _Waiting(queue, call_id, event_time(event),
                                     self.is_customer(call_id)), position=position)

    def _add(self, uniqueid: str, waiting: _Waiting, *, position: int | None) -> None:
        self._remove(uniqueid)  # a caller is in one queue at a time
        line = self._lines.setdefault(waiting.queue, [])
        line.insert(len(line) if position is None else max(position - 1, 0), uniqueid)
        self._waiting[uniqueid] = waiting
        while len(self._waiting) > MAX_WAITING:
            self._remove(next(iter(self._waiting)))

    def _remove(self, uniqueid: str) -> None:
        waiting = self._waiting.pop(uniqueid, None)
        if waiting is not None:
            line = self._lines.get(waiting.queue, [])
            if uniqueid in line:
                line.remove(uniqueid)

    def _nothing_played(self, queue: str) -> None:
        if queue not in self._silent_queues:
            self._silent_queues.add(queue)
            log.warning("queue %s: app_queue stopped a waiting caller's music and played nothing "
                        "(is its periodic-announce prompt missing?)", queue)

    def _message(self, uniqueid: str, waiting: _Waiting,
                 started: datetime) -> list[StatusAnnouncement]:
        previous, waiting.last_message_at = waiting.last_message_at, started
        if not waiting.customer:
            return []
        interval = None if previous is None else (started - previous).total_seconds()
        return [StatusAnnouncement(
            pbx=self.pbx, event_id=announcement_id(uniqueid, waiting.queue, started),
            call_id=waiting.call_id, uniqueid=uniqueid, queue=waiting.queue, department="",
            officer="", announced_at=started, position=self.position(uniqueid) or 1,
            waited_seconds=(started - waiting.joined_at).total_seconds(),
            interval_seconds=interval)]


def announcement_id(uniqueid: str, queue: str, started: datetime) -> str:
    """One row per message heard, the same if the same AMI events are read again."""
    return f"ami:{uniqueid}:{queue}@{started.timestamp():.6f}"
