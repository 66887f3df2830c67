"""The call state machine: AMI events in, one `CallLeg` per ringing leg out, on the PBX's clock.

Front-desk legs come from the queue events (QueueCallerJoin/Abandon/Leave, AgentConnect);
transfer and direct legs from DialBegin/DialEnd of a caller's channel to an extension.
A leg's end is decided only when its cause is known: a queue leg that leaves unanswered waits
for the channel's QUEUESTATUS or hang-up; an unanswered transfer waits for what the caller does
next (back to the front desk = returned, a message = voicemail, hang-up = missed).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.core.records import CallLeg, LegKind, MissedCause, Outcome, dial_leg_id

# Call-level memory is bounded so a lost Hangup can never grow it without limit.
MAX_TRACKED_CALLS = 50_000

_QUEUESTATUS_CAUSE = {"TIMEOUT": MissedCause.TIMEOUT, "JOINEMPTY": MissedCause.NO_AGENTS,
                      "LEAVEEMPTY": MissedCause.NO_AGENTS, "JOINUNAVAIL": MissedCause.NO_AGENTS,
                      "LEAVEUNAVAIL": MissedCause.NO_AGENTS, "FULL": MissedCause.NO_AGENTS}


class AmiEventError(ValueError):
    """An AMI event lacks a field its kind needs, or has a malformed one."""


@dataclass
class LegUpdate:
    """A leg that changed, and which counted transitions this change made."""

    leg: CallLeg
    offered: bool = False
    answered: bool = False
    ended: bool = False


def event_time(event: Mapping[str, str]) -> datetime:
    """The PBX's own timestamp (manager.conf timestampevents=yes)."""
    raw = event.get("timestamp")
    if raw is None:
        raise AmiEventError(f"{event.get('event')}: no Timestamp (set timestampevents=yes)")
    try:
        return datetime.fromtimestamp(float(raw), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise AmiEventError(f"{event.get('event')}: bad Timestamp {raw!r}") from exc


def _field(event: Mapping[str, str], name: str) -> str:
    value = event.get(name)
    if not value:
        raise AmiEventError(f"{event.get('event')}: no {name}")
    return value


def _local_base(channel: str) -> str:
    """`Local/r1@ctx-0001;2` -> `Local/r1@ctx-0001`: both halves of one Local channel ("" if
    not Local). A Local member that dials the phone behind it is the same ring, not a new leg."""
    return channel.rpartition(";")[0] if channel.startswith("Local/") else ""


def _dialled(dialstring: str) -> str:
    """The extension in a dial string, with or without its technology: `PJSIP/2001` -> 2001,
    `Local/r1@ctx/n` and `r1@ctx/n` -> r1."""
    slash, at = dialstring.find("/"), dialstring.find("@")
    if slash != -1 and (at == -1 or slash < at):
        dialstring = dialstring[slash + 1:]
    return dialstring.partition("@")[0].partition("/")[0]


class CallTracker:
    """Pure state: feed events, get `LegUpdate`s; no I/O, so it is tested without a PBX."""

    def __init__(self, pbx: str) -> None:
        self.pbx = pbx
        self.queue_legs: dict[str, CallLeg] = {}  # caller uniqueid -> leg waiting in a queue
        self._left: dict[str, CallLeg] = {}  # left the queue, cause not yet known
        self._entries: dict[str, dict[str, int]] = {}  # uniqueid -> queue -> times joined
        self._dial_legs: dict[str, CallLeg] = {}  # destination uniqueid -> transfer/direct leg
        self._unanswered: dict[str, CallLeg] = {}  # caller uniqueid -> ended unanswered dial leg
        self._member_channels: set[str] = set()  # Local bases rung by a queue or a leg
        self._calls: OrderedDict[str, set[str]] = OrderedDict()  # call_id -> leg kinds seen
        self._routing: dict[str, tuple[str, str]] = {}  # call_id -> (department, officer)
        self._officer_departments: dict[str, str] = {}  # extension -> department (directory)

    def resume(self, legs: Iterable[CallLeg]) -> None:
        """Take back the legs the store holds as in progress (after a restart)."""
        for leg in legs:
            if leg.kind in (LegKind.FRONT_DESK, LegKind.RETURNED) and leg.answered_at is None:
                self.queue_legs[leg.uniqueid] = leg
                n = leg.leg_id.rpartition("#")[2] if "#" in leg.leg_id else "1"
                self._entries.setdefault(leg.uniqueid, {})[leg.queue] = int(n) if n.isdigit() else 1
            self._remember(leg.call_id, leg.kind)

    def open_leg(self, leg_id: str) -> CallLeg | None:
        """The open leg with this id (waiting, ringing, or ended with its cause not yet known)."""
        for legs in self._open_maps():
            for leg in legs.values():
                if leg.leg_id == leg_id:
                    return leg
        return None

    def forget_leg(self, leg_id: str) -> None:
        """Another source (backfill) settled this leg: never report it again from here."""
        for legs in self._open_maps():
            for key in [k for k, leg in legs.items() if leg.leg_id == leg_id]:
                del legs[key]

    def _open_maps(self) -> tuple[dict[str, CallLeg], ...]:
        return self.queue_legs, self._left, self._dial_legs, self._unanswered

    def drop_waiting(self, gone: Callable[[str], bool]) -> int:
        """Stop following queue legs whose caller `gone(uniqueid)` says has left unseen."""
        stale = [uid for uid in self.queue_legs if gone(uid)]
        for uid in stale:
            del self.queue_legs[uid]
        return len(stale)

    def know_officers(self, departments: Mapping[str, str]) -> None:
        """The directory's extension -> department, so a transfer or direct leg gets its
        department from AMI alone, on a PBX that runs none of our scripts."""
        self._officer_departments = dict(departments)

    def set_routing(self, call_id: str, department: str, officer: str) -> None:
        """What the AGI scripts said about the officer this call is being put through to."""
        self._routing[call_id] = (department, officer)

    # -- the event dispatcher -----------------------------------------------------------
    def on_event(self, event: Mapping[str, str]) -> list[LegUpdate]:
        handler = _HANDLERS.get(event.get("event", ""))
        return handler(self, event) if handler else []

    def _remember(self, call_id: str, kind: LegKind) -> None:
        kinds = self._calls.setdefault(call_id, set())
        kinds.add(kind.value)
        self._calls.move_to_end(call_id)
        while len(self._calls) > MAX_TRACKED_CALLS:
            old, _ = self._calls.popitem(last=False)
            self._routing.pop(old, None)

    # -- front-desk queue ---------------------------------------------------------------
    def _join(self, e: Mapping[str, str]) -> list[LegUpdate]:
        uniqueid, queue, at = _field(e, "uniqueid"), _field(e, "queue"), event_time(e)
        call_id = e.get("linkedid") or uniqueid
        known = self.queue_legs.get(uniqueid)
        if known is not None and known.queue == queue and known.source == "backfill":
            known.offered_at, known.call_id = at, call_id  # the log's whole second, made exact
            return [LegUpdate(known)]
        updates = self._settle(uniqueid, at, returned=True)
        joined = self._entries.setdefault(uniqueid, {})
        n = joined[queue] = joined.get(queue, 0) + 1
        leg_id = f"{uniqueid}:{queue}" + (f"#{n}" if n > 1 else "")
        kinds = self._calls.get(call_id, set())
        returned = LegKind.TRANSFER.value in kinds or LegKind.DIRECT.value in kinds
        leg = CallLeg(pbx=self.pbx, call_id=call_id, leg_id=leg_id, uniqueid=uniqueid,
                      kind=LegKind.RETURNED if returned else LegKind.FRONT_DESK, offered_at=at,
                      queue=queue, caller_number=e.get("calleridnum", ""),
                      caller_name=e.get("calleridname", ""))
        if returned:
            previous = [u.leg for u in updates if u.leg.kind is LegKind.TRANSFER]
            leg.returned_from = previous[-1].officer if previous else ""
        self.queue_legs[uniqueid] = leg
        self._remember(call_id, leg.kind)
        return [*updates, LegUpdate(leg, offered=True)]

    def _connect(self, e: Mapping[str, str]) -> list[LegUpdate]:
        uniqueid = _field(e, "uniqueid")
        leg = self.queue_legs.pop(uniqueid, None) or self._left.pop(uniqueid, None)
        if leg is None or leg.answered_at is not None:
            return []
        leg.answered_at = event_time(e)
        leg.answered_by = e.get("membername") or e.get("interface", "")
        leg.outcome, leg.ended_at = Outcome.ANSWERED, None
        return [LegUpdate(leg, answered=True)]

    def _abandon(self, e: Mapping[str, str]) -> list[LegUpdate]:
        leg = self.queue_legs.pop(_field(e, "uniqueid"), None)
        if leg is None:
            return []
        return [self._miss(leg, MissedCause.ABANDONED, event_time(e))]

    def _leave(self, e: Mapping[str, str]) -> list[LegUpdate]:
        uniqueid = _field(e, "uniqueid")
        leg = self.queue_legs.pop(uniqueid, None)
        if leg is not None:  # answered (AgentConnect follows) or timed out: decided later
            leg.ended_at = event_time(e)
            self._left[uniqueid] = leg
        return []

    def _varset(self, e: Mapping[str, str]) -> list[LegUpdate]:
        if e.get("variable") != "QUEUESTATUS":
            return []
        leg = self._left.pop(e.get("uniqueid", ""), None)
        if leg is None:
            return []
        cause = _QUEUESTATUS_CAUSE.get(e.get("value", ""), MissedCause.OTHER)
        return [self._miss(leg, cause, leg.ended_at or event_time(e))]

    def _miss(self, leg: CallLeg, cause: MissedCause, at: datetime) -> LegUpdate:
        leg.outcome, leg.missed_cause, leg.ended_at = Outcome.MISSED, cause, at
        return LegUpdate(leg, ended=True)

    # -- transfer and direct legs --------------------------------------------------------
    def _agent_called(self, e: Mapping[str, str]) -> list[LegUpdate]:
        self._track_local(e.get("destchannel", ""))
        return []

    def _track_local(self, channel: str) -> None:
        base = _local_base(channel)
        if base:
            self._member_channels.add(base)

    def _dial_begin(self, e: Mapping[str, str]) -> list[LegUpdate]:
        caller, dest = e.get("uniqueid"), e.get("destuniqueid")
        dest_channel = e.get("destchannel", "")
        if not caller or not dest or _local_base(dest_channel) in self._member_channels:
            return []  # an originate, or a queue ringing its member
        if _local_base(e.get("channel", "")) in self._member_channels:
            return []  # a Local member dialling the real phone behind it: the same ring
        self._track_local(dest_channel)
        at = event_time(e)
        call_id = e.get("linkedid") or caller
        updates = self._settle(caller, at, returned=False)
        kinds = self._calls.get(call_id, set())
        kind = LegKind.TRANSFER if kinds & {LegKind.FRONT_DESK.value,
                                            LegKind.RETURNED.value} else LegKind.DIRECT
        department, officer = self._routing.get(call_id, ("", ""))
        officer = officer or _dialled(e.get("dialstring", "")) or e.get("destexten", "")
        if not department:  # no word from the scripts: the directory, by dialled or own exten
            for extension in (officer, e.get("exten", "")):
                if extension in self._officer_departments:
                    department, officer = self._officer_departments[extension], extension
                    break
        leg = CallLeg(pbx=self.pbx, call_id=call_id, leg_id=dial_leg_id(caller, dest_channel),
                      uniqueid=caller,
                      kind=kind, offered_at=at, department=department, officer=officer,
                      caller_number=e.get("calleridnum", ""),
                      caller_name=e.get("calleridname", ""))
        self._dial_legs[dest] = leg
        self._remember(call_id, kind)
        return [*updates, LegUpdate(leg, offered=True)]

    def _dial_end(self, e: Mapping[str, str]) -> list[LegUpdate]:
        dest = e.get("destuniqueid", "")
        self._member_channels.discard(_local_base(e.get("destchannel", "")))
        leg = self._dial_legs.pop(dest, None)
        if leg is None:
            return []
        at = event_time(e)
        status = e.get("dialstatus", "")
        if status == "ANSWER":
            leg.answered_at, leg.outcome = at, Outcome.ANSWERED
            leg.answered_by = leg.officer
            return [LegUpdate(leg, answered=True)]
        leg.ended_at = at
        if leg.kind is LegKind.DIRECT:
            cause = MissedCause.ABANDONED if status == "CANCEL" else (
                MissedCause.TIMEOUT if status == "NOANSWER" else MissedCause.OTHER)
            return [self._miss(leg, cause, at)]
        self._unanswered[leg.uniqueid] = leg  # returned, voicemail or missed: decided later
        return []

    def _settle(self, uniqueid: str, at: datetime, *, returned: bool) -> list[LegUpdate]:
        """The caller moved on: close what was waiting for its next step."""
        updates: list[LegUpdate] = []
        leg = self._left.pop(uniqueid, None)
        if leg is not None:
            updates.append(self._miss(leg, MissedCause.TIMEOUT, leg.ended_at or at))
        leg = self._unanswered.pop(uniqueid, None)
        if leg is not None:
            if returned:
                leg.outcome = Outcome.RETURNED
                updates.append(LegUpdate(leg, ended=True))
            else:
                updates.append(self._miss(leg, MissedCause.TRANSFER_UNANSWERED,
                                          leg.ended_at or at))
        return updates

    def voicemail(self, uniqueid: str, call_id: str) -> list[LegUpdate]:
        """The caller left a message after an unanswered ring (from the AGI scripts' event)."""
        leg = self._unanswered.pop(uniqueid, None)
        if leg is None or leg.call_id != call_id:
            if leg is not None:
                self._unanswered[uniqueid] = leg
            return []
        leg.outcome, leg.voicemail = Outcome.VOICEMAIL, True
        return [LegUpdate(leg, ended=True)]

    def _hangup(self, e: Mapping[str, str]) -> list[LegUpdate]:
        uniqueid = e.get("uniqueid", "")
        at = event_time(e)
        updates = self._settle(uniqueid, at, returned=False)
        leg = self.queue_legs.pop(uniqueid, None)  # no Abandon seen: still a missed call
        if leg is not None:
            updates.append(self._miss(leg, MissedCause.ABANDONED, at))
        self._member_channels.discard(_local_base(e.get("channel", "")))
        self._dial_legs.pop(uniqueid, None)  # a rung channel gone: its DialEnd came first
        self._entries.pop(uniqueid, None)
        if uniqueid and uniqueid == e.get("linkedid"):
            self._routing.pop(uniqueid, None)
            self._calls.pop(uniqueid, None)
        return updates

    @property
    def tracked(self) -> int:
        """How many legs and calls are held in memory (for the flat-memory benchmark)."""
        return (len(self.queue_legs) + len(self._left) + len(self._dial_legs)
                + len(self._unanswered) + len(self._calls) + len(self._entries)
                + len(self._member_channels))


_HANDLERS = {
    "QueueCallerJoin": CallTracker._join,
    "AgentConnect": CallTracker._connect,
    "QueueCallerAbandon": CallTracker._abandon,
    "QueueCallerLeave": CallTracker._leave,
    "VarSet": CallTracker._varset,
    "AgentCalled": CallTracker._agent_called,
    "DialBegin": CallTracker._dial_begin,
    "DialEnd": CallTracker._dial_end,
    "Hangup": CallTracker._hangup,
}
HANDLED_EVENTS = frozenset(_HANDLERS)
