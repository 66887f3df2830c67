"""Which events sent as AMI UserEvents still wait for the monitor's acknowledgement, and when
each is due to go again.

Asterisk keeps nothing for a monitor that is not logged in, so a sent event is kept until the
monitor says it is stored (`monitor/core/acks_on_ami.py`). One not acknowledged within
`first_timeout` seconds goes again, then after twice as long, up to `max_timeout`: a monitor
that stays away costs little traffic, one that comes back asks for everything at its login
(`resend_all`), and the sender goes through the outbox in order, so it gets them in order.
Duplicates are harmless: the monitor drops a second copy by event_id (and acknowledges it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from monitor.core.acks_on_ami import ack_token


@dataclass
class _Sent:
    at: float  # monotonic seconds of the last send
    attempts: int


class AwaitingAck:
    """Sent and not acknowledged, by ack token; the clock is monotonic seconds."""

    def __init__(self, *, first_timeout: float = 10.0, max_timeout: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 < first_timeout <= max_timeout:
            raise ValueError(f"0 < first_timeout ({first_timeout}) <= max_timeout "
                             f"({max_timeout}) is needed")
        self.first_timeout = first_timeout
        self.max_timeout = max_timeout
        self.clock = clock
        self._sent: dict[str, _Sent] = {}

    def __len__(self) -> int:
        return len(self._sent)

    def due(self, event_id: str) -> bool:
        """True for an event never sent, or whose acknowledgement is overdue."""
        sent = self._sent.get(ack_token(event_id))
        return sent is None or self.clock() - sent.at >= self._timeout(sent)

    def next_due_in(self) -> float | None:
        """Seconds until the first overdue resend (0 if one is due), None if none waits."""
        if not self._sent:
            return None
        now = self.clock()
        return max(0.0, min(s.at + self._timeout(s) - now for s in self._sent.values()))

    def sending(self, event_id: str) -> None:
        """Marked before the action goes: the acknowledgement can overtake its response."""
        token = ack_token(event_id)
        previous = self._sent.get(token)
        self._sent[token] = _Sent(self.clock(), previous.attempts + 1 if previous else 1)

    def not_sent(self, event_id: str) -> None:
        """The action failed: due again at once (when AMI takes actions again)."""
        self._sent.pop(ack_token(event_id), None)

    def acknowledged(self, tokens: Iterable[str]) -> set[str]:
        """Forget the acknowledged; returns the tokens that were waiting here."""
        return {t for t in tokens if self._sent.pop(t, None) is not None}

    def resend_all(self) -> None:
        """The monitor logged in (or this connection did): everything waiting is due now."""
        for sent in self._sent.values():
            sent.at, sent.attempts = float("-inf"), 0

    def keep_only(self, event_ids: Iterable[str]) -> None:
        """Forget events whose files are gone (another sender, retention)."""
        keep = {ack_token(e) for e in event_ids}
        for token in [t for t in self._sent if t not in keep]:
            del self._sent[token]

    def _timeout(self, sent: _Sent) -> float:
        doublings = min(max(sent.attempts - 1, 0), 30)
        return min(self.first_timeout * float(2 ** doublings), self.max_timeout)
