"""What each receptionist and officer is doing now, from the PBX's own words for it.

A receptionist is a queue member (AMI `QueueMember`: a device status number and `Paused`); an
officer is a directory extension, with the device state Asterisk reports for it
(`DeviceStateList`) and the in/out/leave status of AstDB. Each comes to one `PersonState`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from monitor.core.directory import OfficerStatus


class PersonState(StrEnum):
    FREE = "free"
    RINGING = "ringing"
    ON_CALL = "on_call"
    PAUSED = "paused"  # a paused receptionist, or an officer set out or on leave (DND)
    UNREGISTERED = "unregistered"  # the phone is not reachable
    UNKNOWN = "unknown"


# Asterisk's device states (include/asterisk/devicestate.h), by name and by number.
_BY_DEVICE_STATE = {
    "NOT_INUSE": PersonState.FREE, "INUSE": PersonState.ON_CALL, "BUSY": PersonState.ON_CALL,
    "ONHOLD": PersonState.ON_CALL, "RINGING": PersonState.RINGING,
    "RINGINUSE": PersonState.ON_CALL, "UNAVAILABLE": PersonState.UNREGISTERED,
    "INVALID": PersonState.UNREGISTERED, "UNKNOWN": PersonState.UNKNOWN,
}
_DEVICE_STATE_NAMES = ("UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE",
                       "RINGING", "RINGINUSE", "ONHOLD")


def device_state(name: str) -> PersonState:
    """A device state as `DeviceStateList` and `DEVICE_STATE()` name it."""
    return _BY_DEVICE_STATE.get(name.strip().upper(), PersonState.UNKNOWN)


def member_state(member: Mapping[str, str]) -> PersonState:
    """A `QueueMember` event's member: paused first, then its device status number."""
    if member.get("paused", "0") == "1":
        return PersonState.PAUSED
    try:
        name = _DEVICE_STATE_NAMES[int(member.get("status", "0"))]
    except (ValueError, IndexError):
        return PersonState.UNKNOWN
    state = device_state(name)
    if state is PersonState.FREE and member.get("incall", "0") == "1":
        return PersonState.ON_CALL
    return state


def officer_state(device: str, status: OfficerStatus) -> PersonState:
    """An officer set out or on leave takes no calls (the flows send callers to a message),
    whatever the phone says; a phone that is unreachable says so."""
    state = device_state(device) if device else PersonState.UNKNOWN
    if status is not OfficerStatus.IN and state is not PersonState.ON_CALL:
        return PersonState.PAUSED
    return state
