"""Shared fixtures. The lab's live in tests/integration/conftest.py: unit tests never start it."""

import os
from collections.abc import Iterator

import pytest


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 000, as in some containers: a file mode that depends on the umask shows here."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)
