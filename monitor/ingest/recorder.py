"""Applies leg changes to the store and the counters, durably and each exactly once.

Live AMI events, backfilled queue_log legs and call-flow events all go through here. Writes of
one batch commit together (group commit) before the batch's events count as handled; counters
are rebuilt from the store at start, so a restart shows Prometheus no reset.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from monitor.backfill.queue_log import QueueLogEntry, apply_end, same_entry_ids
from monitor.backfill.window import BackfillWindow
from monitor.core.bad_input import BadInputLog, kind_of
from monitor.core.metrics import ANSWER_WAIT_BUCKETS, CallMetrics
from monitor.core.records import CallLeg, Outcome, PersonRing, RingResult, StatusAnnouncement
from monitor.ingest.call_state import AmiEventError, CallTracker, LegUpdate
from monitor.ingest.customers import CustomerRule
from monitor.ingest.leg_counter import LegCounter, leg_labels, transitions
from monitor.ingest.queue_announcements import QueueAnnouncements
from monitor.store import Store, StoreConnection

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Legs a backfill settled, whose live events may still be queued: bounded, oldest forgotten.
MAX_SETTLED_BY_BACKFILL = 100_000
_FAR = datetime(9999, 1, 1, tzinfo=UTC)
# A ring the log shows (whole seconds) and one the live path stored (sub-second) are the same
# ring when person and result agree and their times are this close.
SAME_RING_SECONDS = 2.0


class Recorder:
    """One per PBX: owns the tracker, writes the store, counts the metrics."""

    def __init__(self, *, store: Store, metrics: CallMetrics, pbx: str,
                 customers: CustomerRule | None = None,
                 callbacks_changed: Callable[[], None] | None = None) -> None:
        self.store = store
        # Called after a callback record's commit: its gauges need not wait for their refresh.
        self.callbacks_changed = callbacks_changed
        self.metrics = metrics
        self.pbx = pbx
        self.customers = customers or CustomerRule()
        self.tracker = CallTracker(pbx, customers=self.customers)
        self.announcements = self._queue_announcements()
        self.counter = LegCounter(metrics)
        self.bad_input = BadInputLog(counter=metrics.bad_input, pbx=pbx, logger=log)
        self._waiting_series: set[tuple[str, str, str]] = set()
        # Legs backfills settled: their live events, still queued, must not count again.
        self._settled_by_backfill: OrderedDict[str, None] = OrderedDict()

    def start(self, *, queues: Iterable[str] = (), departments: Iterable[str] = ()) -> int:
        """Declare series, rebuild counters from the store, resume open legs. Returns legs read."""
        self.counter.declare(self.pbx, queues=queues, departments=departments)
        n = self.counter.rebuild(
            self.pbx, self.store.leg_tallies(self.pbx),
            self.store.answer_wait_buckets(self.pbx, ANSWER_WAIT_BUCKETS),
            self.store.answer_waits_by_person(self.pbx, ANSWER_WAIT_BUCKETS),
            self.store.ring_tallies(self.pbx))
        for announcement in self.store.status_announcements(_EPOCH, _FAR, pbx=self.pbx):
            if announcement.interval_seconds is not None:
                self._observe_interval(announcement)
        for event in self.store.call_events(_EPOCH, _FAR, pbx=self.pbx,
                                              event_type="voicemail_left"):
            department = json.loads(event.payload).get("department", "")
            self.metrics.voicemails.labels(self.pbx, "", str(department)).inc()
        self._resume(self.store.open_legs(self.pbx))
        self.refresh_waiting(datetime.now(UTC))
        return n

    def recover(self, connection: StoreConnection | None = None) -> None:
        """After a failed commit: reconnect the store (to `connection`, opened off the event
        loop by the caller) and rebuild the tracker from what it holds, so nothing the store
        lacks is believed counted; a backfill then fills the gap."""
        self.store.reconnect(connection)
        self.tracker = CallTracker(self.pbx, customers=self.customers)
        self.announcements = self._queue_announcements()
        self._resume(self.store.open_legs(self.pbx))
        self._settled_by_backfill.clear()

    def _resume(self, open_legs: list[CallLeg]) -> None:
        """Follow the legs the store holds as in progress, and the status messages of the
        callers still waiting (so the next message after a restart has its interval)."""
        self.tracker.resume(open_legs)
        self.announcements.resume(open_legs, self._last_messages(open_legs))

    def _queue_announcements(self) -> QueueAnnouncements:
        """Queue callers' status messages, for customer calls as the tracker decides them."""
        return QueueAnnouncements(self.pbx, is_customer=self.tracker.customers.is_customer)

    def _last_messages(self, legs: list[CallLeg]) -> dict[str, datetime]:
        """When each caller still waiting heard their last stored status message."""
        waiting = {leg.uniqueid for leg in legs}
        oldest = min((leg.offered_at for leg in legs), default=None)
        if oldest is None:
            return {}
        return {a.uniqueid: a.announced_at
                for a in self.store.status_announcements(oldest, _FAR, pbx=self.pbx)
                if a.uniqueid in waiting}

    def _observe_interval(self, announcement: StatusAnnouncement) -> None:
        assert announcement.interval_seconds is not None
        self.metrics.status_interval.labels(
            self.pbx, announcement.queue, announcement.department).observe(
            announcement.interval_seconds)

    # -- live AMI ------------------------------------------------------------------------
    def on_ami_events(self, events: Iterable[Mapping[str, str]]) -> int:
        """Handle a batch of events in one commit; returns how many were rejected."""
        rejected = 0
        changed: dict[str, LegUpdate] = {}
        updates: list[LegUpdate] = []
        heard: list[StatusAnnouncement] = []
        for event in events:
            try:
                found = self.tracker.on_event(event)
                heard += self.announcements.on_event(event)
            except AmiEventError as exc:  # both read the same fields: neither used it
                rejected += 1
                self.bad_input.report("ami", kind_of(exc), str(exc))
                continue
            for update in found:
                if self._settled_by_backfill and any(
                        i in self._settled_by_backfill for i in same_entry_ids(update.leg.leg_id)):
                    continue
                updates.append(update)
                changed[update.leg.leg_id] = update
        if changed or heard:
            with self.store.batch():
                self.store.save_legs(u.leg for u in changed.values())
                self.store.save_rings(r for u in updates for r in u.rings)
                for announcement in heard:
                    self.store.save_status_announcement(announcement)
            for update in updates:
                self.counter.count(update)
            for announcement in heard:
                if announcement.interval_seconds is not None:
                    self._observe_interval(announcement)
            # The gauges move with the counters, not a refresh tick later.
            self.refresh_waiting(datetime.now(UTC))
        return rejected

    def reconcile(self, alive: set[str]) -> int:
        """Close the legs of callers the PBX no longer has (AMI `CoreShowChannels` after a
        reconnect: an Asterisk crash or restart sends no Hangup). Returns legs closed."""
        updates = self.tracker.reconcile(lambda uniqueid: uniqueid in alive, datetime.now(UTC))
        self.announcements.reconcile(lambda uniqueid: uniqueid in alive)
        if updates:
            with self.store.batch():
                self._save(updates)
            for update in updates:
                self.counter.count(update)
            self.refresh_waiting(datetime.now(UTC))
        return sum(1 for u in updates if u.ended)

    def apply(self, updates: list[LegUpdate]) -> None:
        """Save and count updates made outside the AMI path (e.g. a call-flow event)."""
        if updates:
            self._save(updates)
            for update in updates:
                self.counter.count(update)

    def _save(self, updates: list[LegUpdate]) -> None:
        """The legs and the rings that ended with them, in the caller's commit."""
        self.store.save_legs(u.leg for u in updates)
        self.store.save_rings(r for u in updates for r in u.rings)

    # -- backfill ------------------------------------------------------------------------
    def merge_backfill(self, window: BackfillWindow) -> int:
        """Merge legs rebuilt from queue_log with what the store has; returns transitions counted.

        A leg the store already has keeps its live (sub-second) times and call id; only what
        it lacks (answer, end, rings) is taken from the log, and only that is counted.
        """
        updates: list[LegUpdate] = []
        by_log_id: dict[str, LegUpdate] = {}  # the log's leg id -> the merged leg's update
        wanted = [*window.legs, *(i for i, _ in window.ends)]
        stored = self.store.get_legs(self.pbx, [n for i in wanted for n in same_entry_ids(i)])
        for leg_id, end in window.ends:
            old = self._known(leg_id, stored)
            if (old is None or old.outcome is not Outcome.IN_PROGRESS
                    or not isinstance(end, QueueLogEntry)):
                continue
            new = replace(old)
            apply_end(new, end)
            updates.append(transitions(old, new))
            by_log_id.setdefault(leg_id, updates[-1])
        for leg in window.legs.values():
            old = self._known(leg.leg_id, stored)
            if old is not None and old.outcome is not Outcome.IN_PROGRESS:
                continue
            log_id = leg.leg_id
            if old is not None:
                new = replace(old)  # keeps the live id, which may be a second later
                if leg.answered_at is not None:
                    wait = leg.answered_at - leg.offered_at
                    new.answered_at, new.answered_by = new.offered_at + wait, leg.answered_by
                new.outcome, new.missed_cause = leg.outcome, leg.missed_cause
                new.ended_at = leg.ended_at
                leg = new
            updates.append(transitions(old, leg))
            by_log_id.setdefault(log_id, updates[-1])
        self._add_logged_rings(window.rings, by_log_id)
        counted = [u for u in updates if u.offered or u.answered or u.ended]
        ringed = [u for u in updates if u.rings and not (u.offered or u.answered or u.ended)]
        for update in counted:
            if update.leg.outcome is not Outcome.IN_PROGRESS:
                self._settled_by_backfill[update.leg.leg_id] = None
        while len(self._settled_by_backfill) > MAX_SETTLED_BY_BACKFILL:
            self._settled_by_backfill.popitem(last=False)
        if counted or ringed:
            with self.store.batch():
                self.store.save_legs(u.leg for u in counted)  # a ring alone changes no leg
                self.store.save_rings(r for u in [*counted, *ringed] for r in u.rings)
            for update in ringed:
                self.counter.count(update)
            for update in counted:
                self.counter.count(update)
                self._hand_to_tracker(update.leg)
        self.refresh_waiting(datetime.now(UTC))
        return len(counted)

    def _add_logged_rings(self, rings: list[PersonRing], by_log_id: dict[str, LegUpdate]) -> None:
        """The log's rings of the merged legs, on those legs' updates, less the rings the store
        has already (seen live: the same ring id, or the same person and result within
        `SAME_RING_SECONDS` of the log's whole second)."""
        mine = [(by_log_id[r.leg_id], r) for r in rings if r.leg_id in by_log_id]
        if not mine:
            return
        stored = self.store.rings_of_legs(self.pbx, {u.leg.leg_id for u, _ in mine})
        for update, ring in mine:
            leg = update.leg
            known = stored.get(leg.leg_id, [])
            twin = next((s for s in known if s.ring_id == ring.ring_id or (
                s.person == ring.person and s.result is ring.result
                and abs((s.ended_at - ring.ended_at).total_seconds()) < SAME_RING_SECONDS)),
                None)
            if twin is not None:
                known.remove(twin)
                continue
            wait = leg.answer_wait_seconds if ring.result is RingResult.ANSWERED else None
            update.rings.append(replace(ring, leg_id=leg.leg_id, answer_wait_seconds=wait))

    def _known(self, leg_id: str, stored: dict[str, CallLeg]) -> CallLeg | None:
        """The leg the tracker or the store has for this entry, by any id it may have."""
        for candidate in same_entry_ids(leg_id):
            found = self.tracker.open_leg(candidate) or stored.get(candidate)
            if found is not None:
                return found
        return None

    def _hand_to_tracker(self, leg: CallLeg) -> None:
        """A backfilled leg still waiting is followed live from now; a finished one is let go."""
        self.tracker.forget_leg(leg.leg_id)
        if leg.outcome is Outcome.IN_PROGRESS and leg.answered_at is None:
            self.tracker.resume([leg])

    # -- gauges --------------------------------------------------------------------------
    def refresh_waiting(self, now: datetime) -> None:
        """Callers waiting and the longest wait now, per queue (from the tracker's open legs)."""
        waiting: dict[tuple[str, str, str], list[CallLeg]] = {}
        for leg in self.tracker.waiting_legs():
            waiting.setdefault(leg_labels(leg), []).append(leg)
        m = self.metrics
        for labels in self._waiting_series - waiting.keys():
            m.callers_waiting.labels(*labels).set(0)
            m.longest_wait.labels(*labels).set(0)
        self._waiting_series = set(waiting)
        for labels, legs in waiting.items():
            m.callers_waiting.labels(*labels).set(len(legs))
            oldest = min(leg.offered_at for leg in legs)
            m.longest_wait.labels(*labels).set(max((now - oldest).total_seconds(), 0.0))

