"""The lab's SIP phones by extension, and which loopback ports each phone's SIPp uses."""

from __future__ import annotations

from dataclasses import dataclass

from lab.config import LabPorts

RECEPTIONISTS = ("101", "102", "103")
# asterisk_conf/officers.toml. 2302 has no static contact: it is the phone that registers
# (baresip), and with nobody registered it is the "unavailable officer".
OFFICERS = ("2101", "2102", "2201", "2202", "2301", "2302")
REGISTERING = ("2302",)
FIXED_PHONES = RECEPTIONISTS + OFFICERS
SLOT_SIZE = 10  # ports per SIPp process: SIP, media (+2, and +4 that SIPp binds for video), RTP


def dynamic_slots(ports: LabPorts) -> range:
    """Callers' and second lines' (consult calls') slots of a lab whose block is `ports.span`
    slots: at the default 50, 500 ports, so labs 50 offsets apart."""
    return range(len(FIXED_PHONES), ports.span)


DYNAMIC_SLOTS = dynamic_slots(LabPorts())


@dataclass(frozen=True)
class PhonePorts:
    """One SIPp process's ports: its SIP port, its media port and a port for recording RTP."""

    sip: int

    @property
    def media(self) -> int:
        return self.sip + 2

    @property
    def recorder(self) -> int:
        return self.sip + 6


def slot_ports(ports: LabPorts, slot: int) -> PhonePorts:
    return PhonePorts(ports.sip_phones + SLOT_SIZE * slot)


def phone_ports(ports: LabPorts, extension: str) -> PhonePorts:
    """The ports of a fixed phone (a receptionist or an officer), as pjsip.conf's contact has."""
    return slot_ports(ports, FIXED_PHONES.index(extension))


def substitutions(ports: LabPorts) -> dict[str, str]:
    """`@@PHONE_PORT_<ext>@@` for lab/asterisk_local/pjsip.conf."""
    return {f"@@PHONE_PORT_{ext}@@": str(phone_ports(ports, ext).sip) for ext in FIXED_PHONES}
