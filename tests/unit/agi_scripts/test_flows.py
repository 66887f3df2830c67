"""The officer call flows without a PBX: what is played in which language, which events go out
with which fields, and where the call goes when the officer is in, busy, out or not answering.

`CallFlows` talks real AGI to a scripted channel (tests/support/fake_agi.py) whose clock moves
only by the time each command would take, so the 20 s status interval is exact, not slept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from agi_scripts.agi import CallerHungUp
from agi_scripts.flows import CallFlows, FlowSettings
from agi_scripts.officer_line import OfficerLines
from monitor.core import events
from monitor.core.charter import load_charter
from monitor.core.directory import DEFAULT_DIRECTORY
from tests.support.fake_agi import EventList, FakeChannel, FakeClock

UNIQUEID = "1700000000.7"
LINKEDID = "1700000000.5"


@dataclass
class Rig:
    flows: CallFlows
    outbox: EventList
    clock: FakeClock
    lines: OfficerLines

    def channel(self, extension: str = "2101", *, language: str = "",
                callerid: str = "0312345678", calleridname: str = "Ali bin Abu",
                **options: object) -> FakeChannel:
        env = {"network_script": "officer_call", "arg_1": extension, "uniqueid": UNIQUEID,
               "channel": "PJSIP/trunk-00000007", "callerid": callerid,
               "calleridname": calleridname}
        variables = {"CHANNEL(linkedid)": LINKEDID}
        if language:
            variables["CHANNEL(language)"] = language
        return FakeChannel(clock=self.clock, env=env, variables=variables,
                           **options)  # type: ignore[arg-type]

    async def call(self, channel: FakeChannel) -> None:
        session = await channel.open()
        try:
            await self.flows.officer_call(session)
        finally:
            await channel.close(session)

    def of(self, kind: type[events.CallEvent]) -> list[events.CallEvent]:
        return self.outbox.of(kind)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    clock, lines = FakeClock(), OfficerLines()
    outbox = EventList(tmp_path / "outbox")
    flows = CallFlows(FlowSettings(pbx="unit", charter=load_charter(),
                                   directory_file=DEFAULT_DIRECTORY),
                      outbox, lines, clock=clock)
    return Rig(flows=flows, outbox=outbox, clock=clock, lines=lines)


def busy_until(free_at: float) -> Callable[[float], str]:
    return lambda t: "NOT_INUSE" if t >= free_at else "INUSE"


def prompt_names(channel: FakeChannel) -> list[str]:
    return [p.rsplit("/", 1)[-1] for p in channel.played]


# -- announced transfer (T-e) ---------------------------------------------------------------

async def test_a_free_officer_is_announced_in_their_language_then_rung(rig: Rig) -> None:
    channel = rig.channel("2101")  # Puan Aminah, finance, works in Malay; the line sets none
    await rig.call(channel)
    assert channel.played == [f"callsla/ms/{name}" for name in (
        "transfer_to", "officer-2101", "dept-finance", "extension",
        "num-2", "num-1", "num-0", "num-1")]
    assert channel.sent("EXEC Dial") == ['EXEC Dial "PJSIP/2101,20"']
    assert channel.variables["CALLSLA_NEXT"] == "hangup"
    assert "CALLSLA_RETURN_REASON" not in channel.variables
    [announced] = rig.outbox.events
    assert isinstance(announced, events.TransferAnnounced)
    assert (announced.pbx, announced.call_id, announced.uniqueid, announced.department,
            announced.officer, announced.officer_name, announced.language) == (
        "unit", LINKEDID, UNIQUEID, "finance", "2101", "Puan Aminah binti Hassan", "ms")
    assert announced.timestamp.tzinfo is not None


ANNOUNCEMENT_2101 = ("transfer_to", "officer-2101", "dept-finance", "extension",
                     "num-2", "num-1", "num-0", "num-1")


@pytest.mark.parametrize("how", ["REFER with Replaces", "features atxfer"])
async def test_an_attended_transfer_whispers_the_announcement_to_the_held_caller(
        rig: Rig, how: str) -> None:
    """The flow runs on the receptionist's consult; the caller they hold hears it too, in
    their own line's language, before the officer rings."""
    channel = rig.channel("2101", callerid="101", calleridname="Reception 101")
    channel.env["channel"] = "PJSIP/101-0000001d"
    v = channel.variables
    v["CALLSLA_STAFF_CALL"] = "1"
    if how == "features atxfer":  # the consult is a Local channel of the caller's call
        channel.env["channel"] = "Local/2101@internal-00000003;2"
        v["ATTENDEDTRANSFER"] = "PJSIP/101-0000001a"
        v["CHANNELS()"] = ("PJSIP/101-0000001a Local/2101@internal-00000003;1 "
                           "Local/2101@internal-00000003;2 PJSIP/trunk-00000018 "
                           "PJSIP/trunk-00000019")
        v["IMPORT(PJSIP/101-0000001a,UNIQUEID)"] = "1700000000.6"
        v["IMPORT(PJSIP/trunk-00000018,UNIQUEID)"] = "1700000000.1"  # another caller
        v["IMPORT(PJSIP/trunk-00000019,UNIQUEID)"] = LINKEDID
    else:
        v["CHANNELS(^PJSIP/101-)"] = "PJSIP/101-0000001a PJSIP/101-0000001d"
        v["IMPORT(PJSIP/101-0000001a,BRIDGEPEER)"] = "PJSIP/trunk-00000019"
    v["IMPORT(PJSIP/trunk-00000019,CHANNEL(language))"] = "en"
    v["ORIGINATE_STATUS"] = "SUCCESS"
    await rig.call(channel)
    [originate] = channel.sent("EXEC Originate")
    files = "&".join(f"callsla/en/{name}" for name in ANNOUNCEMENT_2101)
    assert originate == ('EXEC Originate "Local/s@callsla-whisper/n,exten,callsla-whisper,spy,1,'
                         f'10,av(CALLSLA_WHISPER={files}^CALLSLA_WHISPER_TO='
                         'PJSIP/trunk-00000019)"')
    # The receptionist hears it on the consult, in the officer's language (the line has none).
    assert channel.played == [f"callsla/ms/{name}" for name in ANNOUNCEMENT_2101]
    assert channel.commands.index(originate) < channel.commands.index(
        'EXEC Dial "PJSIP/2101,20"')


@pytest.mark.parametrize("staff", ["", "1"])
async def test_no_whisper_without_a_held_caller(rig: Rig, staff: str) -> None:
    """A customer's own call (not a staff call), or a staff call with nobody on hold."""
    channel = rig.channel("2101")
    channel.variables["CALLSLA_STAFF_CALL"] = staff
    channel.variables["CHANNELS(^PJSIP/trunk-)"] = "PJSIP/trunk-00000007"
    await rig.call(channel)
    assert channel.sent("EXEC Originate") == []
    assert channel.sent('EXEC Dial') == ['EXEC Dial "PJSIP/2101,20"']


async def test_the_caller_line_language_wins_over_the_officer_one(rig: Rig) -> None:
    channel = rig.channel("2101", language="en")
    await rig.call(channel)
    assert channel.played[0] == "callsla/en/transfer_to"
    assert all(p.startswith("callsla/en/") for p in channel.played)
    announced = rig.of(events.TransferAnnounced)[0]
    assert isinstance(announced, events.TransferAnnounced)
    assert announced.language == "en"


async def test_an_unknown_extension_goes_back_to_the_front_desk(rig: Rig) -> None:
    channel = rig.channel("2999", language="xx")  # a language we have no prompts in
    await rig.call(channel)
    assert channel.played == ["callsla/ms/unknown_extension"]
    assert channel.variables["CALLSLA_NEXT"] == "returned"
    assert channel.variables["CALLSLA_RETURN_REASON"] == "unknown_extension"
    assert not channel.sent("EXEC")
    assert rig.outbox.events == []


# -- no answer: return to the front desk (T-g) ----------------------------------------------

async def test_an_officer_who_does_not_answer_sends_the_caller_back(rig: Rig) -> None:
    channel = rig.channel("2201", dial_status="NOANSWER", dial_seconds=25.0)
    await rig.call(channel)
    assert channel.sent("EXEC Dial") == ['EXEC Dial "PJSIP/2201,20"']
    assert channel.variables["CALLSLA_NEXT"] == "returned"
    assert channel.variables["CALLSLA_RETURN_REASON"] == "no_answer"
    assert prompt_names(channel)[-1] == "not_answering"
    [returned] = rig.of(events.TransferReturned)
    assert isinstance(returned, events.TransferReturned)
    assert returned.ring_seconds == pytest.approx(20.0)  # the charter's ring, not the phone's
    assert (returned.department, returned.officer, returned.call_id) == (
        "licensing", "2201", LINKEDID)


async def test_an_answered_transfer_is_not_returned(rig: Rig) -> None:
    channel = rig.channel("2201", dial_status="ANSWER")
    await rig.call(channel)
    assert rig.of(events.TransferReturned) == []
    assert "not_answering" not in prompt_names(channel)


# -- officer out or on leave: message and callback (T-h) ------------------------------------

async def test_an_officer_out_takes_a_message_and_opens_a_callback(rig: Rig) -> None:
    channel = rig.channel("2202", message_seconds=12.0)  # Encik Rajesh: "out" in the file, English
    await rig.call(channel)
    assert prompt_names(channel) == ["officer_out", "leave_message"]  # hung up: no thanks
    assert all(p.startswith("callsla/en/") for p in channel.played)
    assert channel.sent("EXEC Dial") == []
    assert channel.sent("EXEC VoiceMail") == ['EXEC VoiceMail "2202@callsla,s"']
    assert channel.variables["CALLSLA_NEXT"] == "hangup"
    voicemail, callback = rig.outbox.events
    assert isinstance(voicemail, events.VoicemailLeft)
    assert (voicemail.mailbox, voicemail.message_id) == ("2202", "callsla/2202/INBOX/msg0000")
    assert voicemail.duration_seconds == pytest.approx(12.0)
    assert isinstance(callback, events.CallbackCreated)
    assert (callback.caller_number, callback.caller_name) == ("0312345678", "Ali bin Abu")
    assert callback.matter == ("voicemail callsla/2202/INBOX/msg0000 "
                               "for Encik Rajesh a/l Subramaniam")
    assert callback.due_at - callback.timestamp == pytest.approx(timedelta(hours=24),
                                                                 abs=timedelta(seconds=1))
    assert (callback.department, callback.officer) == ("licensing", "2202")


async def test_the_astdb_status_beats_the_directory_file(rig: Rig) -> None:
    channel = rig.channel("2101", astdb={"callsla/officer/2101/status": "leave"},
                          hang_up_after_message=False)
    await rig.call(channel)
    assert prompt_names(channel) == ["officer_leave", "leave_message", "message_thanks"]
    assert channel.sent("EXEC Dial") == []
    assert [type(e) for e in rig.outbox.events] == [events.VoicemailLeft,
                                                     events.CallbackCreated]


async def test_no_message_left_opens_no_callback(rig: Rig) -> None:
    channel = rig.channel("2202", message_seconds=None)
    await rig.call(channel)
    assert channel.sent("EXEC VoiceMail")
    assert rig.outbox.events == []


async def test_a_hostile_caller_id_is_cleaned_before_it_is_kept_or_sent(rig: Rig) -> None:
    hostile_number = '0312"|;$x${EXTEN}'
    hostile_name = 'Ali" EXEC System(rm -rf /)|${SHELL}'
    channel = rig.channel('22"02 EXEC Dial(x)', callerid=hostile_number,
                          calleridname=hostile_name, message_seconds=5.0)
    await rig.call(channel)
    callback = rig.of(events.CallbackCreated)[0]
    assert isinstance(callback, events.CallbackCreated)
    for kept in (callback.caller_number, callback.caller_name):
        assert not set('"|;$\n{}') & set(kept), kept
    assert callback.caller_number.startswith("0312")
    # Nothing the caller sent reaches an AGI command; the extension is its digits alone.
    assert not [c for c in channel.commands if "EXTEN" in c or "System" in c or "rm -rf" in c]
    assert channel.sent("DATABASE GET") == ['DATABASE GET callsla "officer/2202/status"']


# -- busy officer: status every 20 s (T-f) --------------------------------------------------

async def test_a_busy_officer_s_caller_hears_status_every_20_s_then_is_rung(rig: Rig) -> None:
    channel = rig.channel("2101", device_state=busy_until(rig.clock.now + 70))
    await rig.call(channel)
    statuses = [e for e in rig.of(events.StatusAnnounced)
                if isinstance(e, events.StatusAnnounced)]
    assert [s.interval_seconds for s in statuses] == [None, pytest.approx(20.0),
                                                      pytest.approx(20.0), pytest.approx(20.0)]
    assert all(s.position == 1 for s in statuses)
    # counted from the start of the wait for the officer (docs/architecture.md): the 4 s
    # announcement and the 0.5 s "officer busy" prompt included
    assert [s.waited_seconds for s in statuses] == pytest.approx([4.5, 24.5, 44.5, 64.5])
    assert channel.variables["CALLSLA_OFFICER_WAIT"] == "2101"  # the monitor's wait marker
    names = prompt_names(channel)
    assert names.index("officer_busy") < names.index("position_is")
    assert names.count("position_is") == 4
    assert channel.sent("EXEC Dial") == ['EXEC Dial "PJSIP/2101,20"']
    assert channel.variables["CALLSLA_NEXT"] == "hangup"
    assert rig.lines["2101"].waiting == []
    assert rig.lines["2101"].engaged_by is None


async def test_the_status_says_the_wait_and_offers_recovery_past_the_maximum(rig: Rig) -> None:
    channel = rig.channel("2101", language="en", device_state=busy_until(rig.clock.now + 90))
    await rig.call(channel)
    text = " ".join(prompt_names(channel))
    messages = re.findall(r"position_is .*? press_1 press_0", text)
    # waits count from the start of the wait for the officer, the 4 s announcement included
    assert messages[0] == "position_is num-1 in_line waited num-4 seconds press_1 press_0"
    assert messages[2] == "position_is num-1 in_line waited num-44 seconds press_1 press_0"
    # 64.5 s waited + 60 s expected for the caller's own turn is past the 120 s maximum
    assert messages[3] == ("position_is num-1 in_line waited num-1 minute num-4 seconds "
                           "recovery press_1 press_0")
    assert messages[4].startswith("position_is num-1 in_line waited num-1 minute num-24 ")


async def test_pressing_1_during_a_status_message_takes_a_message(rig: Rig) -> None:
    channel = rig.channel("2101", device_state=busy_until(rig.clock.now + 600),
                          keys_on_prompt={"press_1": "1"})
    await rig.call(channel)
    choice = rig.of(events.CallerChoice)[0]
    assert isinstance(choice, events.CallerChoice)
    assert (choice.choice, choice.where) == ("1", "waiting")
    assert channel.sent("EXEC Dial") == []
    assert channel.sent("EXEC VoiceMail") == ['EXEC VoiceMail "2101@callsla,s"']
    assert rig.lines["2101"].waiting == []


async def test_pressing_0_while_waiting_goes_back_to_the_front_desk(rig: Rig) -> None:
    channel = rig.channel("2101", device_state=busy_until(rig.clock.now + 600),
                          keys_at={rig.clock.now + 30: "0"})
    await rig.call(channel)
    choice = rig.of(events.CallerChoice)[0]
    assert isinstance(choice, events.CallerChoice)
    assert choice.choice == "0"
    assert prompt_names(channel)[-1] == "to_front_desk"
    assert channel.variables["CALLSLA_NEXT"] == "returned"
    assert channel.variables["CALLSLA_RETURN_REASON"] == "caller_choice"
    assert channel.sent("EXEC") == []
    assert len(rig.of(events.StatusAnnounced)) == 2  # at 0 s and 20 s; the 0 came at 30 s


async def test_a_caller_behind_another_waits_for_them_even_when_the_officer_is_free(
        rig: Rig) -> None:
    line = rig.lines["2101"]
    line.join("earlier-caller")
    start = rig.clock.now

    def earlier_caller_gives_up(t: float) -> None:
        if t >= start + 45:
            line.leave("earlier-caller")

    # The officer is free all along (the fake's default device state).
    channel = rig.channel("2101", meanwhile=earlier_caller_gives_up)
    await rig.call(channel)
    positions = [e.position for e in rig.of(events.StatusAnnounced)
                 if isinstance(e, events.StatusAnnounced)]
    assert positions == [2, 2, 2]
    assert channel.sent("EXEC Dial") == ['EXEC Dial "PJSIP/2101,20"']


async def test_a_caller_who_hangs_up_while_waiting_leaves_the_line(rig: Rig) -> None:
    channel = rig.channel("2101", device_state=busy_until(rig.clock.now + 600),
                          hang_up_at=rig.clock.now + 30)
    with pytest.raises(CallerHungUp):
        await rig.call(channel)
    assert channel.hung_up
    assert rig.lines.waiting_total() == 0
    assert rig.lines["2101"].engaged_by is None
    assert channel.sent("EXEC") == []


async def test_a_caller_far_back_in_line_wakes_less_often_than_the_next_two(rig: Rig) -> None:
    line = rig.lines["2101"]
    line.join("first-caller")
    line.join("second-caller")
    start = rig.clock.now

    def the_two_ahead_give_up(t: float) -> None:
        if t >= start + 30:
            line.leave("first-caller")
            line.leave("second-caller")

    channel = rig.channel("2101", device_state=busy_until(start + 50),
                          meanwhile=the_two_ahead_give_up)
    await rig.call(channel)
    waits = [int(c.split()[-1]) for c in channel.sent("WAIT FOR DIGIT")]
    third = [w for w, t in zip(waits, channel.sent_at("WAIT FOR DIGIT"), strict=True)
             if t < start + 30]
    first = [w for w, t in zip(waits, channel.sent_at("WAIT FOR DIGIT"), strict=True)
             if t >= start + 31]
    assert max(third, default=0) == 2000  # third in line: every 2 s (less, to the message)
    assert max(first, default=0) == 500  # first in line: every 0.5 s
    assert channel.sent("EXEC Dial") == ['EXEC Dial "PJSIP/2101,20"']
