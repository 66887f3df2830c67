"""The caller a receptionist holds while consulting an officer (an attended transfer), and the
officer's announcement whispered to them, so they hear it too before being put through (T-e).

In an attended transfer the call flow runs on the receptionist's consult channel, so its
prompts reach the receptionist. For a phone's own transfer key (REFER with Replaces) the held
caller is the bridge peer of the phone's other channel; for `features.conf`'s atxfer (the
consult is a Local channel, `ATTENDEDTRANSFER` set) it is the channel that started the call.
The announcement is whispered into that channel by a Local channel running ChanSpy (dialplan
`[callsla-whisper]`), over the music on hold, with no AMI needed (the Originate application).
"""

from __future__ import annotations

import logging
import re

from agi_scripts.agi import AgiSession, printable, quote

log = logging.getLogger(__name__)

STAFF_CALL_VARIABLE = "CALLSLA_STAFF_CALL"  # set by [internal]: only staff calls consult
WHISPER_CONTEXT = "callsla-whisper"
WHISPER_VARIABLE = "CALLSLA_WHISPER"  # the files ;2 plays
WHISPER_TO_VARIABLE = "CALLSLA_WHISPER_TO"  # the channel ;1 whispers into
WHISPER_TIMEOUT_SECONDS = 10
# Asterisk's channel names: technology/resource-sequence (;1/;2 for Local halves).
_CHANNEL = re.compile(r"^[A-Za-z0-9_]+/[^\s,;|^&()]+$")


def device_prefix(channel: str) -> str:
    """`PJSIP/101-0000001d` -> `PJSIP/101-`: every channel of the same phone starts so."""
    base, dash, _sequence = channel.rpartition("-")
    return f"{base}-" if dash and "/" in base else ""


async def held_caller(session: AgiSession) -> str:
    """The channel the consulting receptionist holds, or '' (not a consult, none found)."""
    if await session.get_variable(f"${{{STAFF_CALL_VARIABLE}}}") != "1":
        return ""
    ours = session.env.get("channel", "")
    if await session.get_variable("${ATTENDEDTRANSFER}"):
        return await _call_origin(session, ours)
    prefix = device_prefix(ours)
    if not prefix:
        return ""
    # CHANNELS() takes a regular expression; AGI quoting drops backslashes, so the prefix goes
    # in as it is (a `.` in it matches more) and the names are checked here.
    listed = await session.get_variable(f"${{CHANNELS(^{prefix})}}")
    for candidate in listed.split():
        if candidate == ours or not candidate.startswith(prefix) or not _CHANNEL.match(
                candidate):
            continue
        peer = await session.get_variable(f"${{IMPORT({candidate},BRIDGEPEER)}}")
        if peer and _CHANNEL.match(peer) and not peer.startswith(prefix):
            return peer
    return ""


async def _call_origin(session: AgiSession, ours: str) -> str:
    """features.conf's atxfer: the consult is a Local channel of the same call, whose linkedid
    is the caller's uniqueid; the transferer's bridge peer is gone by then (measured), so the
    caller is the live channel with that uniqueid."""
    linkedid = await session.get_variable("${CHANNEL(linkedid)}")
    if not linkedid:
        return ""
    for name in (await session.get_variable("${CHANNELS()}")).split():
        if name == ours or name.startswith("Local/") or not _CHANNEL.match(name):
            continue
        if await session.get_variable(f"${{IMPORT({name},UNIQUEID)}}") == linkedid:
            return name
    return ""


async def whisper(session: AgiSession, held: str, files: list[str]) -> bool:
    """Whisper `files` (full prompt paths, played in turn) into `held`; False if refused."""
    variables = f"{WHISPER_VARIABLE}={'&'.join(files)}^{WHISPER_TO_VARIABLE}={held}"
    data = (f"Local/s@{WHISPER_CONTEXT}/n,exten,{WHISPER_CONTEXT},spy,1,"
            f"{WHISPER_TIMEOUT_SECONDS},av({variables})")
    reply = await session.command(f"EXEC Originate {quote(data)}")
    status = await session.get_variable("${ORIGINATE_STATUS}")
    if reply.result == "-2" or status in {"FAILED", "CONGESTION", "HANGUP"}:
        log.warning("cannot whisper the announcement to %s: %s", printable(held),
                    status or "no Originate application")
        return False
    log.info("announcement whispered to held caller %s", printable(held))
    return True
