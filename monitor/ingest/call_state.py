"""The call state machine: AMI events in, one `CallLeg` per ringing leg out, on the PBX's clock.

The definitions are docs/architecture.md's. In short:
- a front-desk leg is one queue entry (QueueCallerJoin ... AgentConnect / Abandon / Leave),
  however many member phones the queue rings: a `DialBegin` from a caller who is waiting in a
  queue is a member's phone ringing (a per-person ring), never a leg of its own;
- an officer leg (transfer or direct) starts when the caller starts waiting for that officer:
  the dialplan's `CALLSLA_OFFICER_WAIT` marker (before the announcement and any wait for a busy
  officer), or, on a PBX that runs none of our scripts, the caller's first `DialBegin`. All the
  phones one `Dial` rings, forwarded (302) targets and a pickup by a colleague are that one leg;
- only customer calls are measured (`customers.py`);
- a leg's end is decided only when its cause is known: a queue leg that leaves unanswered waits
  for QUEUESTATUS or the hang-up; an unanswered officer leg waits for what the caller does next
  (back to the front desk = returned, a message = voicemail, hang-up = missed).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.core.dialplan import (
    CUSTOMER_VARIABLE,
    OFFICER_FLOW_VARIABLE,
    OFFICER_WAIT_VARIABLE,
)
from monitor.core.records import (
    OTHER_PERSON,
    CallLeg,
    LegKind,
    MissedCause,
    Outcome,
    PersonRing,
    RingResult,
    dial_leg_id,
    officer_leg_id,
    queue_leg_id,
)
from monitor.ingest.customers import CustomerCalls, CustomerRule

# Call-level memory is bounded so a lost Hangup can never grow it without limit.
MAX_TRACKED_CALLS = 50_000

# SoftHangupRequest's `Cause` is the soft-hang-up flag: AST_SOFTHANGUP_SHUTDOWN (1 << 2) is
# the PBX stopping or restarting (include/asterisk/channel.h); measured on Asterisk 22.
SOFTHANGUP_SHUTDOWN = "4"
_QUEUESTATUS_CAUSE = {"TIMEOUT": MissedCause.TIMEOUT, "JOINEMPTY": MissedCause.NO_AGENTS,
                      "LEAVEEMPTY": MissedCause.NO_AGENTS, "JOINUNAVAIL": MissedCause.NO_AGENTS,
                      "LEAVEUNAVAIL": MissedCause.NO_AGENTS, "FULL": MissedCause.NO_AGENTS}


class AmiEventError(ValueError):
    """An AMI event lacks a field its kind needs, or has a malformed one."""


@dataclass
class LegUpdate:
    """A leg that changed, which counted transitions this change made, and rings that ended."""

    leg: CallLeg
    offered: bool = False
    answered: bool = False
    ended: bool = False
    rings: list[PersonRing] = field(default_factory=list)


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


@dataclass
class _OfficerLeg:
    """An officer leg and the phones its caller's Dial is ringing now (dest uniqueid -> person)."""

    leg: CallLeg
    ringing: dict[str, str] = field(default_factory=dict)
    ringing_channels: set[str] = field(default_factory=set)  # their channel names
    nested: bool = False  # moved onto a Local channel running the officer flow
    cause: MissedCause = MissedCause.TRANSFER_UNANSWERED  # if the caller hangs up unanswered


@dataclass
class _StaffDial:
    """A staff call to an officer (a receptionist's consultation before an attended transfer):
    not measured unless it becomes the customer's transfer."""

    started_at: datetime
    extension: str
    answered_at: datetime | None = None
    person: str = OTHER_PERSON


MAX_STAFF_DIALS = 1_000  # consultations remembered until their transfer (bounded)


class CallTracker:
    """Pure state: feed events, get `LegUpdate`s; no I/O, so it is tested without a PBX."""

    def __init__(self, pbx: str, *, customers: CustomerRule | None = None) -> None:
        self.pbx = pbx
        self.customers = CustomerCalls(customers or CustomerRule())
        self.queue_legs: dict[str, CallLeg] = {}  # caller uniqueid -> leg waiting in a queue
        self._left: dict[str, CallLeg] = {}  # left the queue, cause not yet known
        self._member_rings: dict[str, tuple[str, str]] = {}  # member uniqueid -> (caller, who)
        self._member_channels: set[str] = set()  # Local bases of member channels rung
        self._member_answered: set[str] = set()  # callers a member's phone has answered
        # Local channels (by base) whose `;2` runs the officer flow, before the dial naming
        # their `;1` arrives (the flow's marker comes first): base -> the `;2` uniqueid
        self._nested_flows: OrderedDict[str, str] = OrderedDict()
        self._officer_legs: dict[str, _OfficerLeg] = {}  # caller uniqueid -> officer leg
        self._talking: dict[str, list[CallLeg]] = {}  # caller uniqueid -> answered, not ended
        self._calls: OrderedDict[str, set[str]] = OrderedDict()  # call_id -> leg kinds seen
        self._routing: dict[str, tuple[str, str]] = {}  # call_id -> (department, officer)
        self._callers: dict[str, tuple[str, str]] = {}  # call_id -> the customer's number, name
        self._staff_dials: OrderedDict[str, _StaffDial] = OrderedDict()  # staff uniqueid ->
        self._officer_departments: dict[str, str] = {}  # extension -> department (directory)
        self._shut_down: set[str] = set()  # channels the PBX is hanging up as it stops

    def resume(self, legs: Iterable[CallLeg]) -> None:
        """Take back the legs the store holds as in progress (after a restart)."""
        for leg in legs:
            self.customers.resumed(leg.call_id)
            self._remember(leg.call_id, leg.kind)
            if leg.answered_at is not None:
                continue
            if leg.kind in (LegKind.FRONT_DESK, LegKind.RETURNED):
                self.queue_legs[leg.uniqueid] = leg
            else:
                self._officer_legs[leg.uniqueid] = _OfficerLeg(leg)

    def open_leg(self, leg_id: str) -> CallLeg | None:
        """The open leg with this id (waiting, ringing, or ended with its cause not yet known)."""
        return next((leg for leg in self._open_legs() if leg.leg_id == leg_id), None)

    def forget_leg(self, leg_id: str) -> None:
        """Another source (backfill) settled this leg: never report it again from here."""
        for legs in (self.queue_legs, self._left):
            for key in [k for k, leg in legs.items() if leg.leg_id == leg_id]:
                del legs[key]
        for key in [k for k, o in self._officer_legs.items() if o.leg.leg_id == leg_id]:
            del self._officer_legs[key]

    def _open_legs(self) -> Iterator[CallLeg]:
        yield from self.queue_legs.values()
        yield from self._left.values()
        for officer in self._officer_legs.values():
            yield officer.leg

    def waiting_legs(self) -> Iterator[CallLeg]:
        """Callers waiting now: in a queue, or for an officer (announced, waiting, ringing)."""
        yield from self.queue_legs.values()
        for officer in self._officer_legs.values():
            if officer.leg.ended_at is None:  # not between an unanswered ring and what's next
                yield officer.leg

    def callers(self) -> set[str]:
        """The callers (channel uniqueids) this tracker holds a leg of."""
        return {leg.uniqueid for leg in self._open_legs()} | set(self._talking)

    def reconcile(self, alive: Callable[[str], bool], at: datetime) -> list[LegUpdate]:
        """After an AMI reconnect or an Asterisk restart: close the legs of every caller whose
        channel the PBX no longer has (no Hangup was seen), as missed, cause `lost`."""
        updates: list[LegUpdate] = []
        for uniqueid in sorted(uid for uid in self.callers() if not alive(uid)):
            updates += self._caller_gone(uniqueid, at, lost=True)
        self._shut_down.clear()  # the PBX went down since: none of those channels is left
        return updates

    def know_officers(self, departments: Mapping[str, str]) -> None:
        """The directory's extension -> department, so a transfer or direct leg gets its
        department from AMI alone, on a PBX that runs none of our scripts."""
        self._officer_departments = dict(departments)

    def set_routing(self, call_id: str, department: str, officer: str) -> None:
        """What the AGI scripts said about the officer this call is being put through to."""
        self._routing[call_id] = (department, officer)
        for officer_leg in self._officer_legs.values():
            leg = officer_leg.leg
            if leg.call_id == call_id and leg.officer == officer and department:
                leg.department = department

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
            self._callers.pop(old, None)

    def _customer(self, e: Mapping[str, str]) -> bool:
        return self.customers.is_customer(e.get("linkedid") or e.get("uniqueid", ""))

    def _new_channel(self, e: Mapping[str, str]) -> list[LegUpdate]:
        self.customers.channel_created(e.get("linkedid") or e.get("uniqueid", ""),
                                       e.get("context", ""))
        return []

    def _varset(self, e: Mapping[str, str]) -> list[LegUpdate]:
        variable = e.get("variable", "")
        if variable == "QUEUESTATUS":
            return self._queue_status(e)
        if variable == CUSTOMER_VARIABLE:
            self.customers.variable_set(e.get("linkedid") or e.get("uniqueid", ""),
                                        e.get("value", ""))
        elif variable == OFFICER_WAIT_VARIABLE and e.get("value"):
            return self._officer_wait(e)
        elif variable == OFFICER_FLOW_VARIABLE:
            self._adopt_nested_flow(e)
        return []

    def _adopt_nested_flow(self, e: Mapping[str, str]) -> None:
        """A Local channel that an officer leg is ringing runs the officer flow itself (a 302
        forward, a features transfer): the leg moves to that channel, whose own wait, ring
        and answer are the leg's; the Local channel's answer by the flow is nobody's."""
        channel, uniqueid = e.get("channel", ""), e.get("uniqueid", "")
        base = _local_base(channel)
        if not base or not uniqueid:
            return
        for caller, officer in list(self._officer_legs.items()):
            if officer.leg.answered_at is None and any(
                    _local_base(c) == base for c in officer.ringing_channels):
                self._move_to_nested(caller, officer, uniqueid)
                return
        self._nested_flows[base] = uniqueid  # the dial that names its `;1` comes next
        while len(self._nested_flows) > MAX_STAFF_DIALS:
            self._nested_flows.popitem(last=False)

    def _move_to_nested(self, caller: str, officer: _OfficerLeg, nested: str) -> None:
        del self._officer_legs[caller]
        officer.ringing.clear()
        officer.ringing_channels.clear()
        officer.nested = True
        self._officer_legs[nested] = officer

    # -- front-desk queue ---------------------------------------------------------------
    def _join(self, e: Mapping[str, str]) -> list[LegUpdate]:
        uniqueid, queue, at = _field(e, "uniqueid"), _field(e, "queue"), event_time(e)
        if not self._customer(e):
            return []
        call_id = e.get("linkedid") or uniqueid
        known = self.queue_legs.get(uniqueid)
        if known is not None and known.queue == queue and known.source == "backfill":
            known.offered_at, known.call_id = at, call_id  # the log's whole second, made exact
            return [LegUpdate(known)]
        updates = self._settle(uniqueid, at, returned=True)
        self._member_answered.discard(uniqueid)
        kinds = self._calls.get(call_id, set())
        returned = LegKind.TRANSFER.value in kinds or LegKind.DIRECT.value in kinds
        number, name = self._caller_of(call_id, e)
        leg = CallLeg(pbx=self.pbx, call_id=call_id, leg_id=queue_leg_id(uniqueid, queue, at),
                      uniqueid=uniqueid,
                      kind=LegKind.RETURNED if returned else LegKind.FRONT_DESK, offered_at=at,
                      queue=queue, caller_number=number, caller_name=name)
        if returned:
            previous = [u.leg for u in updates if u.leg.outcome is Outcome.RETURNED]
            leg.returned_from = previous[-1].officer if previous else ""
        self.queue_legs[uniqueid] = leg
        self._remember(call_id, leg.kind)
        return [*updates, LegUpdate(leg, offered=True)]

    def _agent_called(self, e: Mapping[str, str]) -> list[LegUpdate]:
        """A queue rings one member's phone: a per-person ring of the caller's queue leg."""
        caller, dest = e.get("uniqueid", ""), e.get("destuniqueid", "")
        base = _local_base(e.get("destchannel", ""))
        if base:
            self._member_channels.add(base)
        if caller in self.queue_legs and dest:
            self._member_rings[dest] = (caller, self._member_name(e))
        return []

    def _member_name(self, e: Mapping[str, str]) -> str:
        return e.get("membername") or e.get("interface") or OTHER_PERSON

    def _ring_ended(self, dest: str, result: RingResult, leg: CallLeg | None,
                    at: datetime) -> list[PersonRing]:
        """A member's ring of `leg` ended (forgotten either way; reported only with its leg)."""
        found = self._member_rings.pop(dest, None)
        return [self._ring(leg, dest, found[1], result, at)] if found and leg else []

    def _ring(self, leg: CallLeg, ring_id: str, person: str, result: RingResult,
              at: datetime) -> PersonRing:
        wait = leg.answer_wait_seconds if result is RingResult.ANSWERED else None
        return PersonRing(self.pbx, leg.leg_id, ring_id, person, result, at, wait)

    def _connect(self, e: Mapping[str, str]) -> list[LegUpdate]:
        uniqueid = _field(e, "uniqueid")
        leg = self.queue_legs.pop(uniqueid, None) or self._left.pop(uniqueid, None)
        if leg is None or leg.answered_at is not None:
            return []
        leg.answered_at = at = event_time(e)
        leg.answered_by = self._member_name(e)
        leg.outcome, leg.ended_at = Outcome.ANSWERED, None
        self._talking.setdefault(uniqueid, []).append(leg)
        dest = e.get("destuniqueid", "")
        rings = self._ring_ended(dest, RingResult.ANSWERED, leg, at)
        if not rings:  # no AgentCalled seen (monitor started mid-ring): still the answerer's
            rings = [self._ring(leg, dest or f"{uniqueid}:answered", leg.answered_by,
                                RingResult.ANSWERED, at)]
        return [LegUpdate(leg, answered=True, rings=rings)]

    def _ring_no_answer(self, e: Mapping[str, str]) -> list[LegUpdate]:
        leg = self.queue_legs.get(e.get("uniqueid", ""))
        rings = self._ring_ended(e.get("destuniqueid", ""), RingResult.NOT_ANSWERED, leg,
                                 event_time(e))
        return [LegUpdate(leg, rings=rings)] if leg is not None and rings else []

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

    def _queue_status(self, e: Mapping[str, str]) -> list[LegUpdate]:
        leg = self._left.pop(e.get("uniqueid", ""), None)
        if leg is None:
            return []
        cause = _QUEUESTATUS_CAUSE.get(e.get("value", ""), MissedCause.OTHER)
        return [self._miss(leg, cause, leg.ended_at or event_time(e))]

    def _miss(self, leg: CallLeg, cause: MissedCause, at: datetime) -> LegUpdate:
        if leg.uniqueid in self._shut_down:  # the PBX hung up on the caller, not the reverse
            cause = MissedCause.LOST
        leg.outcome, leg.missed_cause, leg.ended_at = Outcome.MISSED, cause, at
        return LegUpdate(leg, ended=True)

    # -- officer legs (transfer and direct) ----------------------------------------------
    def _officer_wait(self, e: Mapping[str, str]) -> list[LegUpdate]:
        """The dialplan says this caller starts waiting for an officer: the leg starts now."""
        caller = _field(e, "uniqueid")
        at = event_time(e)
        extension = e.get("value", "")
        if not self._customer(e):
            self._staff_dial(caller, at, extension)
            return []
        adopted = self._officer_legs.get(caller)
        if adopted is not None and adopted.nested and adopted.leg.answered_at is None:
            return []  # the caller's leg, already waiting since the outer ring began
        updates = self._settle(caller, at, returned=False)
        leg = self._new_officer_leg(e, caller, at, extension,
                                    officer_leg_id(caller, extension, at))
        return [*updates, LegUpdate(leg, offered=True)]

    def _new_officer_leg(self, e: Mapping[str, str], caller: str, at: datetime,
                         extension: str, leg_id: str) -> CallLeg:
        call_id = e.get("linkedid") or caller
        kinds = self._calls.get(call_id, set())
        kind = LegKind.TRANSFER if kinds & {LegKind.FRONT_DESK.value,
                                            LegKind.RETURNED.value} else LegKind.DIRECT
        department, officer = self._routing.get(call_id, ("", ""))
        officer = officer or extension
        if not department:  # no word from the scripts: the directory, by dialled or own exten
            for candidate in (officer, e.get("exten", "")):
                if candidate in self._officer_departments:
                    department, officer = self._officer_departments[candidate], candidate
                    break
        number, name = self._caller_of(call_id, e)
        leg = CallLeg(pbx=self.pbx, call_id=call_id, leg_id=leg_id, uniqueid=caller, kind=kind,
                      offered_at=at, department=department, officer=officer,
                      caller_number=number, caller_name=name)
        self._officer_legs[caller] = _OfficerLeg(leg)
        self._remember(call_id, kind)
        return leg

    def _staff_dial(self, caller: str, at: datetime, extension: str) -> None:
        if caller not in self._staff_dials:
            self._staff_dials[caller] = _StaffDial(at, extension)
        while len(self._staff_dials) > MAX_STAFF_DIALS:
            self._staff_dials.popitem(last=False)

    def _attended_transfer(self, e: Mapping[str, str]) -> list[LegUpdate]:
        """A receptionist consulted an officer on a second (staff) call, then joined the
        customer to that call: the consultation becomes the customer's transfer leg, its wait
        from the consultation's start to the officer's answer. (The caller heard no
        announcement: the receptionist did.)"""
        if e.get("result") != "Success":
            return []
        staff = next((e.get(f"{side}transfereruniqueid", "") for side in ("orig", "second")
                      if e.get(f"{side}transfereruniqueid", "") in self._staff_dials), "")
        consult = self._staff_dials.pop(staff, None)
        if consult is None:
            return []
        customer = next((e.get(f"{party}uniqueid", "") for party in ("transfertarget",
                                                                     "transferee")
                         if e.get(f"{party}linkedid") and self.customers.is_customer(
                             e.get(f"{party}linkedid", ""))), "")
        if not customer:
            return []
        party = "transfertarget" if e.get("transfertargetuniqueid") == customer else "transferee"
        call = {"uniqueid": customer, "linkedid": e.get(f"{party}linkedid", ""),
                "calleridnum": e.get(f"{party}calleridnum", ""),
                "calleridname": e.get(f"{party}calleridname", "")}
        at = event_time(e)
        updates = self._settle(customer, at, returned=False)
        leg = self._new_officer_leg(call, customer, consult.started_at, consult.extension,
                                    officer_leg_id(customer, consult.extension,
                                                   consult.started_at))
        if consult.answered_at is None:
            return [*updates, LegUpdate(leg, offered=True)]  # rings on: its DialEnd decides
        del self._officer_legs[customer]
        leg.answered_at, leg.outcome = consult.answered_at, Outcome.ANSWERED
        leg.answered_by = consult.person  # bounded, as the ring's label
        self._talking.setdefault(customer, []).append(leg)
        return [*updates, LegUpdate(leg, offered=True, answered=True,
                                    rings=[self._ring(leg, staff, consult.person,
                                                      RingResult.ANSWERED,
                                                      consult.answered_at)])]

    def _caller_of(self, call_id: str, e: Mapping[str, str]) -> tuple[str, str]:
        """The customer's number and name as the call's first leg saw them: a later leg may
        be on a channel that carries a receptionist's caller ID (a features transfer)."""
        found = self._callers.get(call_id)
        if found is None:
            found = self._callers[call_id] = (e.get("calleridnum", ""),
                                              e.get("calleridname", ""))
        return found

    def _person(self, extension: str) -> str:
        """A directory extension names the person; anything else is bounded to `other`."""
        return extension if extension in self._officer_departments else OTHER_PERSON

    def _dial_begin(self, e: Mapping[str, str]) -> list[LegUpdate]:
        caller, dest = e.get("uniqueid"), e.get("destuniqueid")
        dest_channel = e.get("destchannel", "")
        if not caller or not dest:
            return []  # an originate: no caller is waiting
        if caller in self.queue_legs:
            return []  # the queue ringing a member's phone (AgentCalled names the person)
        if _local_base(dest_channel) in self._member_channels or \
                _local_base(e.get("channel", "")) in self._member_channels:
            return []  # a Local member, or the phone behind it: the same ring
        extension = _dialled(e.get("dialstring", "")) or e.get("destexten", "")
        if not self._customer(e):
            self._staff_dial(caller, event_time(e), extension)
            return []
        officer = self._officer_legs.get(caller)
        updates: list[LegUpdate] = []
        if officer is None or officer.leg.answered_at is not None:
            at = event_time(e)
            updates = self._settle(caller, at, returned=False)
            leg = self._new_officer_leg(e, caller, at, extension,
                                        dial_leg_id(caller, dest_channel))
            officer = self._officer_legs[caller]
            updates.append(LegUpdate(leg, offered=True))
        officer.leg.ended_at = None  # ringing (again): not between steps
        officer.ringing[dest] = self._person(extension or officer.leg.officer)
        officer.ringing_channels.add(dest_channel)
        nested = self._nested_flows.pop(_local_base(dest_channel), None)
        if nested is not None:
            self._move_to_nested(caller, officer, nested)
        return updates

    def _dial_end(self, e: Mapping[str, str]) -> list[LegUpdate]:
        dest = e.get("destuniqueid", "")
        self._member_channels.discard(_local_base(e.get("destchannel", "")))
        caller = e.get("uniqueid", "")
        status = e.get("dialstatus", "")
        if dest in self._member_rings:  # a member's ring ended
            caller_of_ring = self._member_rings[dest][0]
            if status == "ANSWER":  # AgentConnect follows and names who answered
                self._member_answered.add(caller_of_ring)
                return []
            leg = self.queue_legs.get(caller_of_ring) or self._left.get(caller_of_ring)
            talked = self._talking.get(caller_of_ring, [])
            if leg is None and talked and talked[-1].kind in (LegKind.FRONT_DESK,
                                                              LegKind.RETURNED):
                leg = talked[-1]
            result = (RingResult.ANSWERED_ELSEWHERE if caller_of_ring in self._member_answered
                      else RingResult.NOT_ANSWERED)
            rings = self._ring_ended(dest, result, leg, event_time(e))
            return [LegUpdate(leg, rings=rings)] if leg is not None else []
        officer = self._officer_legs.get(caller)
        if officer is None or officer.leg.answered_at is not None:
            staff = self._staff_dials.get(caller)
            if staff is not None and status == "ANSWER" and staff.answered_at is None:
                staff.answered_at = event_time(e)
                staff.person = self._person(staff.extension)
            return []
        person = officer.ringing.pop(dest, None)
        officer.ringing_channels.discard(e.get("destchannel", ""))
        if status == "ANSWER" and person is None:  # a pickup: the picker's channel answers
            person = self._person(_device_name(e.get("destchannel", "")))
        if status == "ANSWER":  # from any phone of the Dial
            leg, at = officer.leg, event_time(e)
            leg.answered_at, leg.outcome = at, Outcome.ANSWERED
            # The ring's person, bounded: a phone outside the directory answers as `other`.
            leg.answered_by = person if person is not None else self._person(leg.officer)
            rung = [self._ring(leg, dest, leg.answered_by,
                               RingResult.ANSWERED, at)]
            rung += [self._ring(leg, other, p, RingResult.ANSWERED_ELSEWHERE, at)
                     for other, p in officer.ringing.items()]
            officer.ringing.clear()
            del self._officer_legs[caller]
            self._talking.setdefault(caller, []).append(leg)
            return [LegUpdate(leg, answered=True, rings=rung)]
        if person is None:
            return []  # a repeated DialEnd of a phone already ended
        rings = [self._ring(officer.leg, dest, person, RingResult.NOT_ANSWERED, event_time(e))]
        # After a 302 (`Forward`) the caller's next DialBegin rings the new target: the same
        # leg, which stays open; otherwise the last phone ending unanswered ends the ring.
        if not e.get("forward") and not officer.ringing:
            officer.leg.ended_at = event_time(e)
            if officer.leg.kind is LegKind.DIRECT:
                officer.cause = (MissedCause.ABANDONED if status == "CANCEL"
                                 else MissedCause.TIMEOUT)
        return [LegUpdate(officer.leg, rings=rings)]

    def _settle(self, uniqueid: str, at: datetime, *, returned: bool) -> list[LegUpdate]:
        """The caller moved on: close what was waiting for its next step, and end the legs it
        was talking on."""
        updates: list[LegUpdate] = []
        leg = self._left.pop(uniqueid, None)
        if leg is not None:
            updates.append(self._miss(leg, MissedCause.TIMEOUT, leg.ended_at or at))
        officer = self._officer_legs.pop(uniqueid, None)
        if officer is not None:
            leg = officer.leg
            if returned:
                leg.outcome, leg.ended_at = Outcome.RETURNED, leg.ended_at or at
                updates.append(LegUpdate(leg, ended=True))
            else:
                updates.append(self._miss(leg, _unanswered_cause(officer), leg.ended_at or at))
        for talked in self._talking.pop(uniqueid, []):
            talked.ended_at = at
            updates.append(LegUpdate(talked))
        return updates

    def voicemail(self, uniqueid: str, call_id: str) -> list[LegUpdate]:
        """The caller left a message instead of being answered (from the AGI scripts' event)."""
        officer = self._officer_legs.get(uniqueid)
        if officer is None or officer.leg.call_id != call_id:
            return []
        del self._officer_legs[uniqueid]
        leg = officer.leg
        leg.outcome, leg.voicemail = Outcome.VOICEMAIL, True
        return [LegUpdate(leg, ended=True)]

    def _caller_gone(self, uniqueid: str, at: datetime, *, lost: bool) -> list[LegUpdate]:
        updates: list[LegUpdate] = []
        leg = self._left.pop(uniqueid, None)
        if leg is not None:
            cause = MissedCause.LOST if lost else MissedCause.TIMEOUT
            updates.append(self._miss(leg, cause, leg.ended_at or at))
        leg = self.queue_legs.pop(uniqueid, None)  # no Abandon seen: still a missed call
        if leg is not None:
            updates.append(self._miss(leg, MissedCause.LOST if lost else MissedCause.ABANDONED,
                                      at))
        officer = self._officer_legs.pop(uniqueid, None)
        if officer is not None:
            cause = MissedCause.LOST if lost else _unanswered_cause(officer)
            updates.append(self._miss(officer.leg, cause, officer.leg.ended_at or at))
        for talked in self._talking.pop(uniqueid, []):
            talked.ended_at = at
            updates.append(LegUpdate(talked))
        return updates

    def _hangup_request(self, e: Mapping[str, str]) -> list[LegUpdate]:
        """`core stop now` / `core restart now` soft-hang-up every channel (cause: Asterisk's
        AST_SOFTHANGUP_SHUTDOWN flag) before app_queue reports the callers as abandoning."""
        if e.get("cause") == SOFTHANGUP_SHUTDOWN and e.get("uniqueid"):
            self._shut_down.add(e["uniqueid"])
        return []

    def _hangup(self, e: Mapping[str, str]) -> list[LegUpdate]:
        uniqueid = e.get("uniqueid", "")
        updates = self._caller_gone(uniqueid, event_time(e), lost=False)
        self._shut_down.discard(uniqueid)
        self._member_channels.discard(_local_base(e.get("channel", "")))
        self._member_rings.pop(uniqueid, None)
        self._member_answered.discard(uniqueid)
        self._staff_dials.pop(uniqueid, None)  # its AttendedTransfer, if any, came first
        self._nested_flows.pop(_local_base(e.get("channel", "")), None)
        if uniqueid and uniqueid == e.get("linkedid"):
            self._routing.pop(uniqueid, None)
            self._callers.pop(uniqueid, None)
            self._calls.pop(uniqueid, None)
            self.customers.forget(uniqueid)
        return updates

    @property
    def tracked(self) -> int:
        """How many legs and calls are held in memory (for the flat-memory benchmark)."""
        return (len(self.queue_legs) + len(self._left) + len(self._officer_legs)
                + len(self._calls) + len(self._talking)
                + len(self._member_channels) + len(self._member_rings) + len(self.customers)
                + len(self._callers) + len(self._member_answered) + len(self._staff_dials)
                + len(self._nested_flows) + len(self._shut_down))


def _unanswered_cause(officer: _OfficerLeg) -> MissedCause:
    """Why an officer leg ended unanswered. A transfer nobody answered is `transfer
    unanswered` however the caller then gave up (waiting for a busy officer, while it rang, or
    after); a direct call is `abandoned` while waiting or ringing, `timeout` after a ring-out."""
    if officer.leg.kind is LegKind.TRANSFER:
        return MissedCause.TRANSFER_UNANSWERED
    return MissedCause.ABANDONED if officer.leg.ended_at is None else officer.cause


def _device_name(channel: str) -> str:
    """`PJSIP/2102-0000001a` -> `2102`: the device of a channel Asterisk named."""
    return channel.partition("/")[2].rpartition("-")[0]


_HANDLERS = {
    "Newchannel": CallTracker._new_channel,
    "QueueCallerJoin": CallTracker._join,
    "AgentConnect": CallTracker._connect,
    "AgentRingNoAnswer": CallTracker._ring_no_answer,
    "QueueCallerAbandon": CallTracker._abandon,
    "QueueCallerLeave": CallTracker._leave,
    "VarSet": CallTracker._varset,
    "AgentCalled": CallTracker._agent_called,
    "DialBegin": CallTracker._dial_begin,
    "DialEnd": CallTracker._dial_end,
    "Hangup": CallTracker._hangup,
    "SoftHangupRequest": CallTracker._hangup_request,
    "AttendedTransfer": CallTracker._attended_transfer,
}
HANDLED_EVENTS = frozenset(_HANDLERS)
