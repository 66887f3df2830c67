"""Whatever Asterisk (or a forged FastAGI client) sends: the environment block and command
replies parse or raise `AgiError`; caller ID comes out as safe text."""

from __future__ import annotations

import asyncio
import re
from typing import cast

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from agi_scripts.agi import AgiError, AgiSession, printable, quote
from agi_scripts.flows import clean_caller_text
from tests.support.fuzz_examples import examples

ENV_LINES = ["agi_network_script: officer_call", "agi_callerid: 0123", "agi_calleridname: x",
             "agi_arg_1: 2101", "agi_uniqueid: 1.2", "agi_", "agi_x:", "agi_x: a: b",
             "EXEC Dial(evil)", "HANGUP", "200 result=1", ": ", "\x00", "agi_\xff: \xfe"]
REPLIES = ["200 result=1", "200 result=0 (ms)", "200 result=-1", "200 result=", "200",
           "510 Invalid or unknown command", "511 Command Not Permitted on a dead channel",
           "520-Invalid command syntax.", "520 End of proper usage.", "HANGUP", "999 result=x",
           "200 result=1 (unclosed", "2", "", "²00 result=1",
           "\uff12\uff10\uff10 result=1"]  # superscript and full-width digits


class _Sink:
    """Where the session writes its commands (nothing listens)."""

    def write(self, data: bytes) -> None:
        pass

    async def drain(self) -> None:
        pass

    def close(self) -> None:
        pass

    async def wait_closed(self) -> None:
        pass


def lines(choices: list[str]) -> st.SearchStrategy[bytes]:
    line = st.one_of(st.sampled_from(choices), st.text(max_size=30),
                     st.binary(max_size=30).map(lambda b: b.decode("latin-1")))
    return st.lists(line, max_size=12).map(
        lambda ls: "".join(f"{x}\n" for x in ls).encode("utf-8", "surrogatepass"))


async def _session(env: bytes, replies: bytes) -> tuple[AgiSession, str]:
    reader = asyncio.StreamReader()
    reader.feed_data(env + replies)
    reader.feed_eof()
    session = AgiSession(reader, cast("asyncio.StreamWriter", _Sink()))
    try:
        await session.start(timeout=2)
    except AgiError:
        return session, "environment refused"
    try:
        result = await session.command("GET FULL VARIABLE \"${X}\"", timeout=2)
        outcome = f"result {result.code}"
    except AgiError as exc:  # CallerHungUp is one too
        outcome = type(exc).__name__
    await session.close()
    return session, outcome


@settings(max_examples=examples(300), deadline=None)
@given(lines(ENV_LINES), st.booleans(), lines(REPLIES))
@example(b"agi_network_script: x\n", True, "\u00b200 result=1\n".encode())  # found by a 10x run
def test_the_environment_and_replies_parse_or_raise_agi_error(
        env: bytes, ended: bool, replies: bytes) -> None:
    session, outcome = asyncio.run(_session(env + (b"\n" if ended else b""), replies))
    event(outcome)
    for key, value in session.env.items():  # one line each, never a command
        assert "\n" not in key
        assert "\n" not in value


caller_text = st.one_of(st.text(max_size=80), st.sampled_from([
    '"; EXEC Dial(PJSIP/evil)', "a\nb\rc", "\x1b[2J", "$(rm -rf /)", "|;", "\u202eevil",
    "Puan Aminah binti Hassan", "+60 3-1234 5678"]))


@settings(max_examples=examples(500), deadline=None)
@given(caller_text, st.integers(min_value=1, max_value=60))
def test_caller_text_is_one_safe_bounded_line(value: str, limit: int) -> None:
    cleaned = clean_caller_text(value, limit)
    assert len(cleaned) <= limit
    assert re.fullmatch(r"[\w .,@+'()/-]*", cleaned)
    assert not any(c in cleaned for c in "\"|;$\n\r\x00")
    quoted = quote(value)
    assert quoted[0] == quoted[-1] == '"'
    assert '"' not in quoted[1:-1]
    assert not re.search(r"[\x00-\x1f\x7f\\]", quoted)
    shown = printable(value)
    assert shown.isascii()
    assert len(shown) <= 80 * 10 + 3
