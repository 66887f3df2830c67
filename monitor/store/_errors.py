"""The store's typed errors."""

from __future__ import annotations


class StoreError(Exception):
    """The database refused a connection, a migration or a write; the message says which."""


class SchemaTooNewError(StoreError):
    """The database was migrated by a newer callsla than this one; upgrade before using it."""
