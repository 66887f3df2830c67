"""A synthetic AMI byte stream: the lab's captured calls, replayed with fresh ids and times."""

from __future__ import annotations

from pathlib import Path

CAPTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / \
    "ami_answered_then_abandoned.txt"
_ID_FIELDS = ("uniqueid", "linkedid", "destuniqueid", "destlinkedid")


def call_template() -> list[list[tuple[str, str]]]:
    """The captured events (two calls: one answered, one abandoned) as field lists."""
    events = []
    for block in CAPTURE.read_text().split("\n\n"):
        fields = [tuple(line.split(": ", 1)) for line in block.strip().splitlines()
                  if ": " in line]
        if fields and fields[0][0] == "event":
            events.append([(k, v) for k, v in fields])  # type: ignore[misc]
    return events


def stream(pairs: int) -> tuple[bytes, int]:
    """`pairs` x (answered + abandoned call); returns the CRLF bytes and the event count."""
    template = call_template()
    base = 1795485505.0
    chunks: list[str] = []
    count = 0
    for n in range(pairs):
        shift = n * 20.0
        for fields in template:
            lines = []
            for key, value in fields:
                if key in _ID_FIELDS and value.partition(".")[0].isdigit():
                    head, _, tail = value.partition(".")
                    value = f"{int(head) + n * 20}.{tail}{n}"
                elif key == "timestamp":
                    value = f"{float(value) - base + 1.8e9 + shift:.6f}"
                elif key in ("channel", "destchannel"):
                    value = value.replace("-0000", f"-{n:x}-")
                lines.append(f"{key.capitalize()}: {value}")
            chunks.append("\r\n".join(lines) + "\r\n\r\n")
            count += 1
    return "".join(chunks).encode(), count
