"""Events per second, AMI bytes → parse → call state machine → store (SQLite) → metrics, through
our real AmiClient over loopback TCP, against panoramisk's bare message parse of the same bytes.
Target (issue 4): end to end >= 0.6 x the bare parse rate, in the same run."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from panoramisk.message import Message
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ami_stream import stream
from monitor.ami import AmiClient
from monitor.core.metrics import create_call_metrics
from monitor.ingest.ami_feed import FEED_EVENTS
from monitor.ingest.recorder import Recorder
from monitor.store import open_store

PAIRS = 400  # ~100 events per pair: ~100,000 events


def panoramisk_parse(data: bytes) -> float:
    """panoramisk's own framing and Message.from_line, as its protocol's data_received does."""
    started = time.perf_counter()
    parsed = 0
    text = data.decode("ascii", "ignore")
    for part in text.split("\r\n\r\n"):
        if Message.from_line(part.strip()) is not None:
            parsed += 1
    return parsed / (time.perf_counter() - started)


async def end_to_end(data: bytes, events: int, db_url: str) -> tuple[float, int]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"Response: Success\r\nActionID: callsla-1\r\nMessage: ok\r\n\r\n")
        writer.write(data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open_store(db_url) as store:
        recorder = Recorder(store=store, metrics=create_call_metrics(CollectorRegistry()),
                            pbx="bench")
        client = AmiClient(port=port, username="u", secret="s", only_events=FEED_EVENTS)
        started = time.perf_counter()
        await client.connect()
        seen = 0
        async for batch in client.event_batches():
            seen = len(batch) + seen
            recorder.on_ami_events(batch)
        elapsed = time.perf_counter() - started
        seen += client.skipped_events
        legs = store.count_legs()
        await client.close()
    server.close()
    assert seen == events, (seen, events)
    return events / elapsed, legs


def main() -> None:
    data, events = stream(PAIRS)
    print(f"stream: {events} events, {len(data) / 1e6:.1f} MB, {PAIRS * 2} calls")
    bare = max(panoramisk_parse(data) for _ in range(3))
    with tempfile.TemporaryDirectory() as folder:
        ours, legs = asyncio.run(end_to_end(data, events, f"sqlite:///{folder}/bench.db"))
    assert legs == PAIRS * 2, legs
    print(f"panoramisk bare parse:            {bare:10,.0f} events/s")
    print(f"callsla end to end (SQLite, FULL): {ours:10,.0f} events/s "
          f"= {ours / bare:.2f} x bare (target >= 0.60)")


if __name__ == "__main__":
    main()
