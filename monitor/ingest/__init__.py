"""Ingest: AMI, MQTT and backfill feeds, the call state machine, and the recorder that applies
leg changes to the store and the counters exactly once."""
