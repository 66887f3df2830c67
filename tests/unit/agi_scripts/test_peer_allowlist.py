"""CALLSLA_AGI_ALLOW: which peers may open a FastAGI session."""

from __future__ import annotations

import pytest

from agi_scripts.peer_allowlist import DEFAULT_AGI_ALLOW, PeerAllowlist
from monitor.core.settings import SettingsError


def test_the_default_is_loopback_only() -> None:
    allow = PeerAllowlist.parse(DEFAULT_AGI_ALLOW)
    assert allow.allows("127.0.0.1")
    assert allow.allows("::1")
    assert not allow.allows("10.0.5.7")
    assert not allow.allows("127.0.0.2")


def test_addresses_and_networks() -> None:
    allow = PeerAllowlist.parse("10.0.5.0/24, 192.0.2.10 ,2001:db8::/32")
    assert allow.allows("10.0.5.200")
    assert allow.allows("192.0.2.10")
    assert allow.allows("2001:db8::1")
    assert allow.allows("::ffff:10.0.5.9")
    assert not allow.allows("10.0.6.1")
    assert not allow.allows("192.0.2.11")
    assert not allow.allows("not-an-address")


@pytest.mark.parametrize("text", ["", " , ", "10.0.5.0/33", "pbx.example"])
def test_a_bad_list_is_refused_with_the_setting_named(text: str) -> None:
    with pytest.raises(SettingsError, match="CALLSLA_AGI_ALLOW"):
        PeerAllowlist.parse(text)
