"""Connection settings: each part's own AMI and MQTT user, TLS schemes, the MQTT client id."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.tls_ca import ensure_lab_ca
from monitor.core.settings import Settings, SettingsError, settings_from_sources

MONITOR = "tcp://callsla-monitor:s1@127.0.0.1:5038"


def test_the_agi_server_and_officer_command_fall_back_to_the_monitor_s_ami_user() -> None:
    settings = settings_from_sources(environ={"CALLSLA_AMI_URL": MONITOR})
    assert settings.agi_ami == settings.officer_ami == settings.ami
    assert settings.ami is not None
    assert settings.ami.username == "callsla-monitor"


def test_each_part_has_its_own_ami_user() -> None:
    settings = settings_from_sources(environ={
        "CALLSLA_AMI_URL": MONITOR,
        "CALLSLA_AGI_AMI_URL": "tcp://callsla-agi:s2@127.0.0.1",
        "CALLSLA_OFFICER_AMI_URL": "tcp://callsla-officer:s3@127.0.0.1"})
    assert settings.agi_ami is not None
    assert settings.officer_ami is not None
    assert (settings.agi_ami.username, settings.agi_ami.password) == ("callsla-agi", "s2")
    assert settings.officer_ami.username == "callsla-officer"
    assert "s2" not in repr(settings.agi_ami)


def test_publishers_have_their_own_mqtt_user() -> None:
    settings = settings_from_sources(environ={
        "CALLSLA_MQTT_URL": "mqtt://callsla-monitor:m@127.0.0.1",
        "CALLSLA_MQTT_PUBLISH_URL": "mqtt://callsla-agi:a@127.0.0.1"})
    assert settings.mqtt is not None
    assert settings.publisher_mqtt is not None
    assert settings.mqtt.username == "callsla-monitor"
    assert settings.publisher_mqtt.username == "callsla-agi"
    alone = settings_from_sources(environ={"CALLSLA_MQTT_URL": "mqtt://m:p@127.0.0.1"})
    assert alone.publisher_mqtt == alone.mqtt


def test_tls_schemes_their_default_ports_and_the_ca_file(tmp_path: Path) -> None:
    ca = ensure_lab_ca(tmp_path).ca_file
    settings = settings_from_sources(environ={
        "CALLSLA_AMI_URL": "tls://u:p@pbx.example", "CALLSLA_MQTT_URL": "mqtts://u:p@broker",
        "CALLSLA_TLS_CA_FILE": str(ca)})
    assert settings.ami is not None
    assert settings.mqtt is not None
    assert (settings.ami.tls, settings.ami.port, settings.ami.ca_file) == (True, 5039, ca)
    assert (settings.mqtt.tls, settings.mqtt.port) == (True, 8883)
    assert not settings_from_sources(environ={"CALLSLA_AMI_URL": MONITOR}).ami.tls  # type: ignore[union-attr]


@pytest.mark.parametrize(("environ", "named"), [
    ({"CALLSLA_AGI_AMI_URL": "http://u:p@h"}, "CALLSLA_AGI_AMI_URL"),
    ({"CALLSLA_MQTT_PUBLISH_URL": "tls://u:p@h"}, "CALLSLA_MQTT_PUBLISH_URL"),
    ({"CALLSLA_TLS_CA_FILE": "/no/such/ca.pem"}, "CALLSLA_TLS_CA_FILE"),
    ({"CALLSLA_TLS_CA_FILE": __file__}, "CALLSLA_TLS_CA_FILE"),  # a file, but no certificate
    ({"CALLSLA_MQTT_CLIENT_SUFFIX": "a/b#"}, "CALLSLA_MQTT_CLIENT_SUFFIX"),
])
def test_a_bad_setting_is_refused_with_its_name(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        settings_from_sources(environ=environ)


def test_the_mqtt_client_id_differs_by_pbx_host_and_suffix() -> None:
    """A second monitor with the same id would take over the first one's session."""
    ids = {Settings(pbx="hq").mqtt_client_id("monitor", "host-a"),
           Settings(pbx="branch").mqtt_client_id("monitor", "host-a"),
           Settings(pbx="hq").mqtt_client_id("monitor", "host-b"),
           Settings(pbx="hq", mqtt_client_suffix="2").mqtt_client_id("monitor", "host-a")}
    assert len(ids) == 4
    assert Settings(pbx="hq").mqtt_client_id("monitor", "host-a") == "callsla-monitor-hq-host-a"
    assert Settings(pbx="hq").mqtt_client_id("agi", "h") != \
        Settings(pbx="hq").mqtt_client_id("monitor", "h")
