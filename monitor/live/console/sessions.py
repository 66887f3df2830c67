"""Logged-in sessions: a random id in an HttpOnly cookie, a CSRF token, an idle time-out.

Sessions live in the monitor's memory: a restart logs everyone out, which is what a
help-desk PC left logged in overnight should get anyway; nothing about a session is in the
store. The CSRF token is per session and must come back in every POST form.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE_NAME = "callsla_session"


@dataclass
class Session:
    session_id: str = field(repr=False)
    username: str
    csrf_token: str = field(repr=False)
    last_seen: float

    def csrf_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token.encode(), token.encode())


class Sessions:
    """At most one lookup per request; `idle_seconds` without a request ends a session."""

    def __init__(self, *, idle_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._idle = idle_seconds
        self._clock = clock
        self._by_id: dict[str, Session] = {}

    def start(self, username: str) -> Session:
        self._forget_idle()
        session = Session(session_id=secrets.token_urlsafe(32), username=username,
                          csrf_token=secrets.token_urlsafe(32), last_seen=self._clock())
        self._by_id[session.session_id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id (its idle clock restarts), or None."""
        session = self._by_id.get(session_id or "")
        now = self._clock()
        if session is None:
            return None
        if now - session.last_seen > self._idle:
            del self._by_id[session.session_id]
            return None
        session.last_seen = now
        return session

    def end(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)

    def end_all_of(self, username: str) -> None:
        """After a password change, a role change or disabling: log that user out everywhere."""
        for sid in [s.session_id for s in self._by_id.values() if s.username == username]:
            del self._by_id[sid]

    def _forget_idle(self) -> None:
        now = self._clock()
        for sid in [s.session_id for s in self._by_id.values() if now - s.last_seen > self._idle]:
            del self._by_id[sid]
