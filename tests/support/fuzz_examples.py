"""How many cases each fuzz test runs: modest in `make test`, scaled up for a long run.

`CALLSLA_FUZZ_SCALE=100 make test-unit` (or any pytest run) multiplies every fuzz test's
`max_examples`; hypothesis' own profiles cannot, since each test sets its count explicitly.
"""

from __future__ import annotations

import os


def examples(count: int) -> int:
    """`count` cases, times $CALLSLA_FUZZ_SCALE (default 1)."""
    scale = os.environ.get("CALLSLA_FUZZ_SCALE", "1")
    if not scale.isdigit() or int(scale) < 1:
        raise ValueError(f"CALLSLA_FUZZ_SCALE must be a whole number >= 1, not {scale!r}")
    return count * int(scale)
