"""The AGI protocol on a real socket pair: results, a HANGUP between commands, dead channels,
and quoting of untrusted values."""

from __future__ import annotations

import asyncio
import socket

import pytest

from agi_scripts.agi import AgiSession, CallerHungUp, printable, quote
from agi_scripts.flows import clean_caller_text
from agi_scripts.server import run_script


async def _pair(env: bytes) -> tuple[AgiSession, asyncio.StreamReader, asyncio.StreamWriter]:
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    pbx_reader, pbx_writer = await asyncio.open_connection(sock=theirs)
    pbx_writer.write(env + b"\n")
    session = AgiSession(reader, writer)
    await session.start()
    return session, pbx_reader, pbx_writer


async def test_results_and_a_hangup_between_commands() -> None:
    session, pbx_in, pbx_out = await _pair(b"agi_network_script: officer_call\n"
                                           b"agi_calleridname: x\nEXEC Dial(evil)\n"
                                           b"agi_arg_1: 2101\n")
    assert session.script == "officer_call"
    assert session.arg(1) == "2101"
    assert "EXEC Dial(evil)" not in str(session.env)
    pbx_out.write(b"200 result=1 (ms)\n")
    assert await session.get_variable("${CHANNEL(language)}") == "ms"
    assert (await pbx_in.readline()).startswith(b'GET FULL VARIABLE "${CHANNEL(language)}"')
    pbx_out.write(b"HANGUP\n")
    await asyncio.wait_for(session.hung_up.wait(), 2)
    pbx_out.write(b"511 Command Not Permitted on a dead channel or intercept routine\n")
    with pytest.raises(CallerHungUp):
        await session.command("STREAM FILE x \"\"")
    await session.close()
    pbx_out.close()


async def test_a_failing_script_sends_the_caller_to_the_front_desk() -> None:
    session, pbx_in, pbx_out = await _pair(b"agi_network_script: broken\n")

    async def broken(_: AgiSession) -> None:
        raise RuntimeError("bug")

    pbx_out.write(b"200 result=1\n200 result=1\n")
    await run_script(session, {"broken": broken})
    sent = [await pbx_in.readline() for _ in range(2)]
    assert sent == [b'SET VARIABLE CALLSLA_NEXT "returned"\n',
                    b'SET VARIABLE CALLSLA_RETURN_REASON "script_error"\n']
    await session.close()
    pbx_out.close()


def test_untrusted_values_are_neutralised() -> None:
    hostile = '"x\nEXEC Dial(Local/o2101@lab-phones)\\'
    assert "\n" not in quote(hostile)
    assert quote(hostile).count('"') == 2
    assert "\n" not in printable(hostile)
    assert len(printable("9" * 500)) < 100
    cleaned = clean_caller_text('0312"|;$x${EXTEN}\n', 32)
    assert not set('"|;$\n{}') & set(cleaned)
