"""The monitor's /metrics page read by the benches: every `callsla_` sample summed over its
labels (a slow, full parse), and a few counters of one queue (a fast scan, to poll often)."""

from __future__ import annotations

import http.client
import urllib.request
from collections.abc import Sequence

from prometheus_client.parser import text_string_to_metric_families


def metric_sums(url: str) -> dict[str, float]:
    """Each `callsla_` sample summed over its labels, the front desk's offered apart."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            sums[s.name] = sums.get(s.name, 0.0) + s.value
            if s.name == "callsla_calls_offered_total" and s.labels.get("queue") == "frontdesk":
                key = "offered_frontdesk"
                sums[key] = sums.get(key, 0.0) + s.value
    return sums


def queue_counters(text: str, names: Sequence[str], queue: str) -> tuple[float, ...]:
    """The sum of each counter's samples labelled with `queue`, in the order of `names`.
    A line scan, not the parser: polled every few tens of milliseconds, the page's parse must
    not be what the bench measures (prometheus-client writes one sample a line, no timestamp)."""
    wanted = {f"{name}{{": i for i, name in enumerate(names)}
    label = f'queue="{queue}"'
    sums = [0.0] * len(names)
    for line in text.splitlines():
        head, brace, rest = line.partition("{")
        index = wanted.get(head + brace)
        if index is not None and label in rest:
            sums[index] += float(line.rpartition(" ")[2])
    return tuple(sums)


class MetricsPage:
    """/metrics over one kept-alive HTTP connection (reconnected when the server drops it), so
    a fast poll costs a request, not a TCP handshake."""

    def __init__(self, host: str, port: int, *, timeout: float = 5.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._connection: http.client.HTTPConnection | None = None

    def text(self) -> str:
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(self.host, self.port,
                                                              timeout=self.timeout)
            try:
                self._connection.request("GET", "/metrics")
                response = self._connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise OSError(f"/metrics answered {response.status}")
                return body.decode()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
