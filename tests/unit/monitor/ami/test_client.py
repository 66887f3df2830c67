"""The AMI client against a small AMI server on loopback: login, responses matched by ActionID
whatever their order, events kept apart from responses, and a lost connection as `AmiError`."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest

from monitor.ami import AmiClient, AmiError, AmiMessage
from monitor.core.settings import Settings
from tests.support.fake_ami import FakeAmi


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    server = await FakeAmi().start()
    yield server
    await server.close()


def client_of(server: FakeAmi, **options: object) -> AmiClient:
    return AmiClient(port=server.port, username=server.username, secret=server.secret,
                     **options)  # type: ignore[arg-type]


async def test_login_sends_the_credentials_and_reads_the_banner(ami: FakeAmi) -> None:
    async with client_of(ami) as client:
        assert client.connected
        assert client.banner == "Asterisk Call Manager/9.0.0"
    [login] = ami.actions
    assert (login["Action"], login["Username"], login["Secret"], login["Events"]) == (
        "Login", "callsla", "s3cret", "on")
    assert login["ActionID"]
    assert not client.connected


async def test_a_client_that_wants_no_events_says_so_at_login(ami: FakeAmi) -> None:
    async with client_of(ami, events=False):
        pass
    assert ami.actions[0]["Events"] == "off"


async def test_a_refused_login_raises_and_closes(ami: FakeAmi) -> None:
    client = AmiClient(port=ami.port, username="callsla", secret="wrong")
    with pytest.raises(AmiError, match="refused: Authentication failed"):
        await client.connect()
    assert not client.connected


async def test_an_unreachable_ami_raises_amierror() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: the connection is refused
        with pytest.raises(AmiError, match=f"cannot reach AMI at 127.0.0.1:{port}"):
            await AmiClient(port=port, username="u", secret="s").connect(timeout=2)


async def test_responses_find_their_action_by_actionid_in_any_order(ami: FakeAmi) -> None:
    held: list[dict[str, str]] = []

    def answer_in_reverse(action: dict[str, str]) -> list[dict[str, str]]:
        held.append(action)
        if len(held) < 2:
            return []
        return [{"Response": "Success", "ActionID": a["ActionID"], "Value": a["Variable"]}
                for a in reversed(held)]

    ami.handlers["Getvar"] = answer_in_reverse
    async with client_of(ami) as client:
        first = asyncio.create_task(client.action("Getvar", Variable="FIRST"))
        await asyncio.sleep(0.05)  # the server has the first action before the second
        second = await client.action("Getvar", Variable="SECOND")
        assert second["value"] == "SECOND"
        assert (await first)["value"] == "FIRST"
        assert held[0]["ActionID"] != held[1]["ActionID"]


async def test_events_are_queued_apart_from_responses(ami: FakeAmi) -> None:
    async with client_of(ami) as client:
        await ami.send_event("Newchannel", Uniqueid="1.1", CallerIDNum="0312345678")
        reply = await client.action("Ping")
        await ami.send_event("Hangup", Uniqueid="1.1", Cause="16")
        await ami.drop()
        seen = [e async for e in client.events()]
    assert reply.succeeded
    assert [(e.event, e["uniqueid"]) for e in seen] == [("Newchannel", "1.1"), ("Hangup", "1.1")]
    assert seen[0]["calleridnum"] == "0312345678"  # keys read case-insensitively


async def test_only_the_wanted_events_are_parsed_the_rest_counted(ami: FakeAmi) -> None:
    async with client_of(ami, only_events=frozenset({"Hangup"})) as client:
        for n in range(3):
            await ami.send_event("VarSet", Variable=f"V{n}", Value="1")
        await ami.send_event("Hangup", Uniqueid="1.1")
        await ami.drop()
        batches = [b async for b in client.event_batches()]
    assert [e.event for batch in batches for e in batch] == ["Hangup"]
    assert client.skipped_events == 3


async def test_events_come_in_batches_until_the_connection_closes(ami: FakeAmi) -> None:
    async with client_of(ami) as client:
        await ami.send(*({"Event": "VarSet", "Variable": f"V{n}"} for n in range(5)))
        await client.action("Ping")  # all five are read once the response is
        await ami.drop()
        batches = [b async for b in client.event_batches(max_size=2)]
    assert [len(b) for b in batches] == [2, 2, 1]
    assert [e["variable"] for b in batches for e in b] == [f"V{n}" for n in range(5)]


async def test_losing_the_connection_fails_the_waiting_action(ami: FakeAmi) -> None:
    ami.handlers["Originate"] = lambda _action: []  # never answered
    async with client_of(ami) as client:
        waiting = asyncio.create_task(client.action("Originate", Channel="Local/x"))
        await asyncio.sleep(0.05)
        await ami.drop()
        with pytest.raises(AmiError, match="connection closed"):
            await asyncio.wait_for(waiting, 5)
        assert not client.connected
        assert [e async for e in client.events()] == []  # the stream ends, it does not hang


async def test_an_action_with_no_response_times_out_as_amierror(ami: FakeAmi) -> None:
    ami.handlers["Originate"] = lambda _action: []
    async with client_of(ami) as client:
        with pytest.raises(AmiError, match=r"no response in 0\.2 s"):
            await client.action("Originate", timeout=0.2, Channel="Local/x")


async def test_an_action_before_connecting_raises() -> None:
    with pytest.raises(AmiError, match="not connected"):
        await AmiClient(username="u", secret="s").action("Ping")


async def test_a_value_with_a_newline_cannot_start_a_new_field(ami: FakeAmi) -> None:
    async with client_of(ami) as client:
        await client.action("Setvar", Variable="CALLER", Value="x\r\nAction: Hangup")
    [setvar] = ami.actions_named("Setvar")
    assert setvar["Value"] == "x  Action: Hangup"
    assert ami.actions_named("Hangup") == []


async def test_several_variables_go_as_repeated_variable_lines(ami: FakeAmi) -> None:
    seen: list[AmiMessage] = []
    async with client_of(ami) as client:
        seen.append(await client.action("Originate", Variable="A=1\nB=2"))
    assert seen[0].succeeded
    assert ami.actions_named("Originate")[0]["Variable"] == "A=1\nB=2"  # two Variable lines


async def test_cli_command_output_is_returned(ami: FakeAmi) -> None:
    ami.handlers["Command"] = lambda action: [
        {"Response": "Success", "Message": "Command output follows",
         "Output": f"ran {action['Command']}"}]
    async with client_of(ami) as client:
        assert await client.command("core show version") == "ran core show version"


async def test_an_action_after_the_connection_is_lost_fails_at_once(ami: FakeAmi) -> None:
    async with client_of(ami) as client:
        await ami.drop()
        assert [e async for e in client.events()] == []  # the client has seen the loss
        started = time.monotonic()
        with pytest.raises(AmiError, match="not connected"):
            await client.action("Ping", timeout=0.5)
        assert time.monotonic() - started < 0.1


def test_a_client_from_the_ami_url_setting() -> None:
    endpoint = Settings(ami_url="tcp://callsla:s%40cret@10.0.0.5:15038").ami
    assert endpoint is not None
    client = AmiClient.from_endpoint(endpoint, events=False, only_events=frozenset({"Hangup"}))
    assert (client.host, client.port, client.username) == ("10.0.0.5", 15038, "callsla")
    assert client._secret == "s@cret"
    assert client._want_events is False
    assert client._only_events == frozenset({"Hangup"})


async def test_a_cancel_as_the_connection_opens_is_not_lost(ami: FakeAmi,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Python 3.11's `asyncio.wait_for` returns the result and drops a cancel that arrives as
    its awaitable completes; a monitor stopping then would hang in a connection it thought
    it had left. The client waits with `asyncio.timeout`, which keeps the cancel."""
    from monitor.ami import client as client_module

    real_open = asyncio.open_connection
    connecting: list[asyncio.Task[None]] = []

    async def open_then_cancelled(*args: object, **kwargs: object) -> object:
        opened = await real_open(*args, **kwargs)  # type: ignore[arg-type]
        connecting[0].cancel()  # the stop arrives just as the connection is made
        return opened

    monkeypatch.setattr(client_module.asyncio, "open_connection", open_then_cancelled)
    client = client_of(ami)
    connecting.append(asyncio.create_task(client.connect()))
    with pytest.raises(asyncio.CancelledError):
        await connecting[0]
    await client.close()
    assert not client.connected


async def test_a_cancel_as_a_response_arrives_is_not_lost(ami: FakeAmi) -> None:
    async with client_of(ami) as client:
        asking: list[asyncio.Task[AmiMessage]] = []
        dispatch = client._dispatch

        def dispatch_then_cancel(message: AmiMessage) -> None:
            dispatch(message)
            if message.is_response and asking:
                asking[0].cancel()  # the stop arrives with the response

        client._dispatch = dispatch_then_cancel  # type: ignore[method-assign]
        asking.append(asyncio.create_task(client.action("Ping")))
        with pytest.raises(asyncio.CancelledError):
            await asking[0]
