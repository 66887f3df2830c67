"""Issue 14, "no broker required": the call flows on SIP phones with no MQTT broker at all
(Mosquitto stopped; neither `callsla agi-server` nor `callsla monitor` has CALLSLA_MQTT_URL).
The agi-server sends its events as AMI UserEvents, the monitor reads them in order with the
PBX's own events, and /metrics has every figure: the status interval (on time), the returned
transfer, the message and its open callback.

Two callers side by side first (the slowest a caller waiting for 2101, busy with a customer of
the plain gateway, until their second status message, about 35 s): one dials 2101, one dials
2201 who never answers (back to the front desk, where 101 answers). Then, with the monitor
stopped (Asterisk keeps no event for it), a caller dials 2202, out of the office, and leaves a
message: the agi-server keeps the message's events though Asterisk took them, and when the
monitor is back (it asks for what it missed) the callback is on /metrics and the outbox empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lab import Lab
from lab.processes import ManagedProcess, wait_until
from lab.sip.phones import sip_phones
from lab.sip.scenarios import Answer, NoAnswer
from monitor.ami import AmiClient
from monitor.ami.officer_status import set_officer_status
from monitor.core.directory import ASTDB_FAMILY, OfficerStatus, status_key
from monitor.store import open_store
from tests.support.callflow_harness import AmiLog
from tests.support.monitor_run import MonitorRun, wait_for

BUSY_CALLER, RETURNED_CALLER, MESSAGE_CALLER = "0350000001", "0350000002", "0350000003"
ON_THE_LINE = "0350000004"  # the customer 2101 is talking to
DIRECT_TRUNK = "direct-trunk"  # lab/asterisk_local/pjsip.conf: a plain Dial, no scripts
OUT_OF_OFFICE = "2202"  # licensing; `out` in asterisk_conf/officers.toml, set in AstDB too
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def start_agi_server(lab: Lab, pbx: str, outbox: Path) -> ManagedProcess:
    """`callsla agi-server` as a site without a broker runs it: AMI only, as the lab's
    `callsla-agi` (the skeleton's rights: read = user with the acknowledgements' eventfilter,
    write = call,user)."""
    config = lab.config
    ami_url = config.part_ami_url("agi")
    assert lab.pbx is not None
    agi = ManagedProcess("agi-server-nobroker", config.lab_dir / "run")
    agi.logfile.unlink(missing_ok=True)
    agi.start([sys.executable, "-m", "agi_scripts"], env={
        "CALLSLA_PBX": pbx, "CALLSLA_AGI_AMI_URL": ami_url,
        "CALLSLA_AGI_ADDR": f"127.0.0.1:{config.ports.fastagi}",
        "CALLSLA_OUTBOX": str(outbox),
        "CALLSLA_VOICEMAIL_SPOOL": str(lab.pbx.spool_dir / "voicemail")})

    def listening() -> bool:
        assert agi.running(), agi.log_tail(10)
        return b"FastAGI listening on" in agi.logfile.read_bytes()

    wait_until(listening, 20, "callsla agi-server listening")
    return agi


async def test_every_figure_reaches_metrics_with_no_broker(
        lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLSLA_MQTT_URL", raising=False)
    monkeypatch.delenv("CALLSLA_CUSTOMER_CONTEXTS", raising=False)  # the default: from-pstn
    pbx = f"lab-nobroker-{uuid.uuid4().hex[:6]}"
    db_url = f"sqlite:///{tmp_path}/nobroker.db"
    outbox = tmp_path / "outbox"
    config = lab.config
    lab.mosquitto.stop()  # no broker anywhere
    run = MonitorRun(lab, db_url, pbx=pbx, mqtt=False)
    agi: ManagedProcess | None = None
    ami = AmiClient(port=config.ports.ami, username=config.ami_user, secret=config.ami_secret)
    log = AmiLog(ami)
    watching: asyncio.Task[None] | None = None
    try:
        started = time.monotonic()
        _, agi = await asyncio.gather(asyncio.to_thread(run.start), asyncio.to_thread(
            start_agi_server, lab, pbx, outbox))
        await ami.connect()
        watching = asyncio.create_task(log.run())
        await set_officer_status(ami, OUT_OF_OFFICE, OfficerStatus.OUT)
        async with sip_phones(lab) as phones:
            await phones.use_front_desk(["101"], strategy="rrmemory")
            phones.receptionist("101", Answer(after=2, talk=3))  # takes the returned caller
            phones.officer("2101", Answer(after=1, wait_for_bye=True))
            phones.officer("2201", NoAnswer())
            await phones.call_in(RETURNED_CALLER, name="Abu Kembali", dialled="2201",
                                 patience=90)
            # 2101 busy with a customer who came through the plain gateway (no announcement).
            await phones.call_in(ON_THE_LINE, name="Sudah Bercakap", dialled="2101",
                                 trunk=DIRECT_TRUNK, patience=120)
            await log.wait_for(lambda e: e.event == "DialEnd" and e.get("dialstatus") == "ANSWER"
                               and e.get("destchannel", "").startswith("PJSIP/2101"), 30,
                               "2101 busy")
            await phones.call_in(BUSY_CALLER, name="Ali Menunggu", dialled="2101",
                                 patience=120)

            def every_figure() -> bool:
                return (run.value("callsla_status_announcement_interval_seconds_count",
                                  pbx=pbx, department="finance") >= 1
                        and run.value("callsla_transfers_returned_total", pbx=pbx) >= 1)

            await asyncio.to_thread(wait_for, every_figure, 75, "every figure on /metrics")
            # The waiting caller has heard two status messages: done (the PBX hangs up).
            channel = next(e["channel"] for e in log.events if e.event == "Newchannel"
                           and e.get("calleridnum") == BUSY_CALLER)
            await ami.action("Hangup", Channel=channel)
            print(f"status and return on /metrics {time.monotonic() - started:.1f} s after start")
            # The monitor stops; a message is left meanwhile: Asterisk takes its UserEvents
            # (Response: Success) and hands them to no monitor.
            await asyncio.to_thread(run.stop)
            await phones.call_in(MESSAGE_CALLER, name="Siti Pesanan", dialled=OUT_OF_OFFICE,
                                 patience=11, talks_from=0.0)  # about 3 s of message
            await log.wait_for(lambda e: e.get("userevent") == "CallSLA"
                               and e.get("type") == "callback_created", 40,
                               "the callback sent as a UserEvent while the monitor is down")
            kept = [p.read_text() for p in outbox.glob("*.json")]
            assert any('"callback_created"' in k for k in kept), "kept until acknowledged"
            assert any('"voicemail_left"' in k for k in kept)
            restarted = time.monotonic()
            await asyncio.to_thread(run.start)

            def callback_in() -> bool:
                return (run.value("callsla_callbacks_open", pbx=pbx) >= 1
                        and not list(outbox.glob("*.json")))

            await asyncio.to_thread(wait_for, callback_in, 30,
                                    "the callback on /metrics after the restart, outbox empty")
            print(f"callback on /metrics, outbox empty {time.monotonic() - restarted:.1f} s "
                  "after the monitor started again")
        interval_count = run.value("callsla_status_announcement_interval_seconds_count",
                                   pbx=pbx, department="finance")
        on_time = run.value("callsla_status_announcement_interval_seconds_bucket", pbx=pbx,
                            department="finance", le="21.0")
        assert interval_count >= 1
        assert on_time == interval_count, "every status message on time (21 s bucket)"
        assert run.value("callsla_transfers_returned_total", pbx=pbx,
                         department="licensing") == 1
        assert run.value("callsla_callbacks_open", pbx=pbx, department="licensing") == 1
        assert run.value("callsla_voicemails_total", pbx=pbx, department="licensing") == 1
        with open_store(db_url) as store:
            stored = store.call_events(*EVER, pbx=pbx)
            callbacks = store.callbacks(pbx=pbx)
        assert {e.source for e in stored} == {"ami"}
        assert {"transfer_announced", "status_announced", "transfer_returned",
                "voicemail_left", "callback_created"} <= {e.type for e in stored}
        assert len({e.event_id for e in stored}) == len(stored)
        assert [(c.caller_number, c.department) for c in callbacks] == [
            (MESSAGE_CALLER, "licensing")]
        assert list(outbox.glob("*.json")) == [], "nothing left waiting in the outbox"
        acks = [e for e in log.events if e.get("userevent") == "CallSLAStored"]
        assert {e.get("pbx") for e in acks} == {pbx}
        assert any(e.get("resend") == "all" for e in acks), "the restarted monitor asked"
        assert b"call-flow events go as AMI UserEvents" in agi.logfile.read_bytes()
    finally:
        if watching is not None:
            watching.cancel()
        with contextlib.suppress(Exception):
            await ami.action("DBDel", Family=ASTDB_FAMILY, Key=status_key(OUT_OF_OFFICE))
        await ami.close()
        if agi is not None:
            agi.stop()
        run.stop()
        lab.mosquitto.start()  # later modules' broker
