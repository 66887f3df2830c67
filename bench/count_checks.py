"""The "every call counted once" table the whole-product benches end with: each figure, what
it must be, and one verdict; the figures are printed, never asserted, so a run shows them all."""

from __future__ import annotations

from collections.abc import Sequence

# (what is counted, the figure found, the figure it must be; None: shown, not checked)
Check = tuple[str, object, object]


def print_checks(checks: Sequence[Check], *, width: int = 72,
                 ok_text: str = "every call placed was counted once",
                 bad_text: str = "COUNTS DO NOT MATCH") -> bool:
    """Print one line a check, then the verdict; True if every checked figure is what it
    must be."""
    ok = True
    for label, got, expected in checks:
        verdict = "" if expected is None else ("  ok" if got == expected else
                                               f"  EXPECTED {expected}")
        ok = ok and (expected is None or got == expected)
        print(f"  {label:<{width}} {got!s:>8}{verdict}")
    print(ok_text if ok else bad_text)
    return ok
