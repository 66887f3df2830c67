"""The AMI client is built from a parsed `CALLSLA_AMI_URL` in one way."""

from __future__ import annotations

from monitor.ami import AmiClient
from monitor.core.settings import Settings


def test_a_client_from_the_ami_url_setting() -> None:
    endpoint = Settings(ami_url="tcp://callsla:s%40cret@10.0.0.5:15038").ami
    assert endpoint is not None
    client = AmiClient.from_endpoint(endpoint, events=False, only_events=frozenset({"Hangup"}))
    assert (client.host, client.port, client.username) == ("10.0.0.5", 15038, "callsla")
    assert client._secret == "s@cret"
    assert client._want_events is False
    assert client._only_events == frozenset({"Hangup"})
