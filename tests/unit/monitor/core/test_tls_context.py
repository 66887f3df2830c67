"""TLS for `tls://` and `mqtts://`: the certificate and its host name are checked."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from monitor.core.settings import AMI_SCHEMES, MQTT_SCHEMES, SettingsError, parse_endpoint
from monitor.core.tls_context import client_tls_context


def test_plain_endpoints_get_no_tls() -> None:
    assert client_tls_context(parse_endpoint("a", "tcp://u:p@h", schemes=AMI_SCHEMES)) is None
    assert client_tls_context(parse_endpoint("m", "mqtt://h", schemes=MQTT_SCHEMES)) is None


def test_tls_checks_the_certificate_and_host_name() -> None:
    context = client_tls_context(parse_endpoint("a", "tls://u:p@h", schemes=AMI_SCHEMES))
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_a_file_that_is_no_ca_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    endpoint = parse_endpoint("m", "mqtts://h", schemes=MQTT_SCHEMES, ca_file=bogus)
    with pytest.raises(SettingsError, match="CALLSLA_TLS_CA_FILE"):
        client_tls_context(endpoint)
