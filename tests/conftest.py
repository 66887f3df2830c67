"""Shared fixtures. The lab's live in tests/integration/conftest.py: unit tests never start it."""
