"""Which hosts may open a FastAGI session (CALLSLA_AGI_ALLOW): Asterisk's address, loopback by
default. Anyone else who reaches the port could otherwise publish false call-flow events or
sit first in an officer's line."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from monitor.core.settings import SettingsError

DEFAULT_AGI_ALLOW = "127.0.0.1,::1"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class PeerAllowlist:
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, text: str, *, name: str = "CALLSLA_AGI_ALLOW") -> PeerAllowlist:
        """Addresses or CIDR networks separated by commas, e.g. `127.0.0.1,10.0.5.0/24`."""
        networks = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise SettingsError(f"{name}: {item!r} is not an address or a network "
                                    "(e.g. 10.0.5.0/24)") from exc
        if not networks:
            raise SettingsError(f"{name}: {text!r} names no address; the default is "
                                f"{DEFAULT_AGI_ALLOW}")
        return cls(tuple(networks))

    def allows(self, peer: str) -> bool:
        """Whether the peer address (as asyncio gives it) is in a listed network."""
        try:
            address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket shows IPv4 peers this way
        return any(address in network for network in self.networks)

    def __str__(self) -> str:
        return ",".join(str(network) for network in self.networks)
