"""`tls://` AMI and `mqtts://` MQTT against the lab's Asterisk and Mosquitto, their
certificate signed by the lab's throwaway CA (lab/tls_ca.py): the monitor logs in over both
with its least-rights users and records a call-flow event that came over TLS; a client that
does not trust the CA is refused before it sends its secret."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest

from lab import Lab
from monitor.ami import AmiClient, AmiError
from monitor.core.events import OfficerStatusChanged
from monitor.core.settings import AMI_SCHEMES, MQTT_SCHEMES, parse_endpoint
from monitor.core.tls_context import client_tls_context
from tests.support.monitor_run import MonitorRun, wait_for


async def test_the_monitor_connects_over_tls_and_records_an_event(
        lab: Lab, tmp_path: Path) -> None:
    config = lab.config
    pbx = f"tls-{uuid.uuid4().hex[:6]}"
    run = MonitorRun(lab, f"sqlite:///{tmp_path / 'm.db'}", pbx=pbx, queue_log=False)
    run.env.update({"CALLSLA_AMI_URL": config.part_ami_url("monitor", tls=True),
                    "CALLSLA_MQTT_URL": config.part_mqtt_url("monitor", tls=True),
                    "CALLSLA_TLS_CA_FILE": str(config.tls_dir / "ca.pem")})
    run.start()  # healthy means AMI logged in, here over TLS
    try:
        wait_for(lambda: run.value("callsla_monitor_source_connected", source="mqtt") == 1, 15,
                 "the MQTT feed over TLS")
        publisher = parse_endpoint("p", config.part_mqtt_url("agi", tls=True),
                                   schemes=MQTT_SCHEMES, ca_file=config.tls_dir / "ca.pem")
        event = OfficerStatusChanged(pbx=pbx, timestamp=datetime.now(UTC), call_id="",
                                     uniqueid="", department="licensing", officer="2101",
                                     status="out")
        async with aiomqtt.Client(publisher.host, publisher.port, username=publisher.username,
                                  password=publisher.password,
                                  tls_context=client_tls_context(publisher)) as pub:
            await pub.publish(event.topic, json.dumps(event.to_payload()), qos=1)
        wait_for(lambda: run.value("callsla_monitor_events_total", source="mqtt") >= 1, 15,
                 "the event sent over mqtts:// to be read")
        assert run.value("callsla_monitor_events_rejected_total", source="mqtt") == 0
        log = run.log_path.read_text()
        assert "over TLS" in log
    finally:
        run.stop()


async def test_a_client_that_does_not_trust_the_ca_is_refused(lab: Lab) -> None:
    endpoint = parse_endpoint("a", lab.config.part_ami_url("monitor", tls=True),
                              schemes=AMI_SCHEMES)  # the system's CAs: not the lab's
    with pytest.raises(AmiError, match="CERTIFICATE_VERIFY_FAILED"):
        await AmiClient.from_endpoint(endpoint, events=False).connect()
