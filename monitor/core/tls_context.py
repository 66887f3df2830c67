"""The TLS context of a `tls://` (AMI) or `mqtts://` (MQTT) endpoint: the server's certificate
is checked against CALLSLA_TLS_CA_FILE (or the system's CAs) and its host name, TLS 1.2 or
newer. A plain `tcp://`/`mqtt://` endpoint gets none."""

from __future__ import annotations

import ssl

from monitor.core.settings import Endpoint, SettingsError


def client_tls_context(endpoint: Endpoint) -> ssl.SSLContext | None:
    if not endpoint.tls:
        return None
    try:
        context = ssl.create_default_context(
            cafile=str(endpoint.ca_file) if endpoint.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise SettingsError(f"CALLSLA_TLS_CA_FILE: {endpoint.ca_file} is not a CA file "
                            f"({exc})") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
