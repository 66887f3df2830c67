"""The store of call records: `open_store(db_url)` gives a `Store` on SQLite or PostgreSQL."""

from monitor.store._dialect import Connection as StoreConnection
from monitor.store._errors import SchemaTooNewError, StoreError
from monitor.store._rings import PersonRingTally
from monitor.store._schema import LATEST as SCHEMA_VERSION
from monitor.store._store import BackfillMark, LegTally, Store, StoredEvent, open_store

__all__ = ["SCHEMA_VERSION", "BackfillMark", "LegTally", "PersonRingTally", "SchemaTooNewError",
           "Store", "StoreConnection", "StoreError", "StoredEvent", "open_store"]
