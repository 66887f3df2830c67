"""Which calls are customer calls: only those are in the charter's figures (docs/architecture.md).

A call is a customer call when any of its channels was created in one of the inbound contexts
(the trunk's context, `from-pstn` by default), or when the dialplan sets the channel variable
`CALLSLA_CUSTOMER` on it (`1` marks a customer, `0` a staff call). Staff-to-staff calls, and a
receptionist's consultation call during an attended transfer, are not customer calls.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

DEFAULT_CUSTOMER_CONTEXTS = ("from-pstn",)
_MAX_CALLS = 50_000  # bounded like the tracker: a lost Hangup cannot grow it


@dataclass(frozen=True)
class CustomerRule:
    """The configured rule; `contexts=("*",)` measures every call (a site with one context)."""

    contexts: tuple[str, ...] = DEFAULT_CUSTOMER_CONTEXTS

    def __post_init__(self) -> None:
        if not self.contexts or any(not c or "," in c for c in self.contexts):
            raise ValueError(f"customer contexts {self.contexts!r}: give one or more names")

    @property
    def everyone(self) -> bool:
        return "*" in self.contexts


@dataclass
class CustomerCalls:
    """What the PBX has said about each call (by Linkedid): customer, staff, or not yet known."""

    rule: CustomerRule = field(default_factory=CustomerRule)
    _known: OrderedDict[str, bool] = field(default_factory=OrderedDict)

    def channel_created(self, call_id: str, context: str) -> None:
        """A `Newchannel`: a channel born in an inbound context makes its call a customer's."""
        if context in self.rule.contexts:
            self._set(call_id, True)
        elif call_id not in self._known:
            self._set(call_id, False)

    def variable_set(self, call_id: str, value: str) -> None:
        """The dialplan's word (`CALLSLA_CUSTOMER`) wins over the context."""
        self._set(call_id, value.strip().lower() in ("1", "yes", "true"))

    def resumed(self, call_id: str) -> None:
        """A call the store already holds legs of was a customer call."""
        self._set(call_id, True)

    def is_customer(self, call_id: str) -> bool:
        """Unknown calls (the monitor started while they were up) count: better counted than
        a customer's call missing from the figures."""
        return self.rule.everyone or self._known.get(call_id, True)

    def forget(self, call_id: str) -> None:
        self._known.pop(call_id, None)

    def _set(self, call_id: str, customer: bool) -> None:
        self._known[call_id] = customer
        self._known.move_to_end(call_id)
        while len(self._known) > _MAX_CALLS:
            self._known.popitem(last=False)

    def __len__(self) -> int:
        return len(self._known)
