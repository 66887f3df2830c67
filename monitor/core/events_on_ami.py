"""Call-flow events as AMI `UserEvent`s: the same schema-1 JSON as on MQTT, framed for AMI.

The scripts send `Action: UserEvent` with `UserEvent: CallSLA`; Asterisk (main/manager.c,
`action_userevent`) copies every other header line of the action, unchanged, into an event
of class `user` that every AMI session with `read = user` gets, in order with the PBX's own
events. What survives that trip decides the framing:
- a header line ends at LF, and Asterisk reads at most 1024 bytes a line (a longer line is
  discarded with its whole action); at most 128 headers a message;
- AMI clients commonly trim values or split them on `: `.
So the UTF-8 JSON text is base64-encoded (no whitespace, no colon, ASCII only) and cut into
`Part1` … `PartN` headers of at most `PART_CHARS` characters; `EventID` and `Type` stay
readable for whoever watches AMI. The monitor puts the parts back together and parses the
JSON with `parse_event`, as for MQTT.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from monitor.core.events import EventSchemaError, payload_text

USER_EVENT = "CallSLA"  # the `UserEvent:` header of our events
PART_CHARS = 960  # base64 characters a header: with "PartNN: " well within Asterisk's 1024
MAX_PARTS = 100  # Asterisk keeps 128 headers of an action; ours use at most 105


def userevent_fields(payload: bytes | str, *, event_id: str, event_type: str) -> dict[str, str]:
    """The headers of the `UserEvent` action that carries one event's JSON `payload`."""
    data = payload.encode() if isinstance(payload, str) else payload
    encoded = base64.b64encode(data).decode("ascii")
    parts = [encoded[i:i + PART_CHARS] for i in range(0, len(encoded), PART_CHARS)] or [""]
    if len(parts) > MAX_PARTS:
        raise EventSchemaError(f"event {event_id}: {len(data)} bytes do not fit one AMI "
                               f"UserEvent ({MAX_PARTS * PART_CHARS * 3 // 4} at most)")
    fields = {"UserEvent": USER_EVENT, "EventID": event_id, "Type": event_type,
              "Parts": str(len(parts))}
    fields.update({f"Part{n}": part for n, part in enumerate(parts, start=1)})
    return fields


def is_call_flow_event(message: Mapping[str, str]) -> bool:
    """True for a `UserEvent` of ours (other UserEvents on the same AMI are not)."""
    return message.get("event") == "UserEvent" and message.get("userevent") == USER_EVENT


def payload_from_userevent(message: Mapping[str, str]) -> str:
    """The JSON text a `CallSLA` UserEvent carries; `EventSchemaError` if it is not whole."""
    count = message.get("parts", "")
    if not (count.isascii() and count.isdigit()) or not 1 <= int(count) <= MAX_PARTS:
        raise EventSchemaError(f"AMI UserEvent: Parts {count[:20]!r} is not 1 to {MAX_PARTS}")
    try:
        encoded = "".join(message[f"part{n}"] for n in range(1, int(count) + 1))
    except KeyError as exc:
        raise EventSchemaError(f"AMI UserEvent: {exc.args[0]} missing") from exc
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EventSchemaError(f"AMI UserEvent: not base64 ({exc})") from exc
    return payload_text(data)
