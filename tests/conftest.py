"""Shared fixtures. Lab fixtures live in tests/lab/conftest.py so unit tests never start the lab."""
