"""The lab's throwaway CA: its server certificate is valid for 127.0.0.1 under that CA only."""

from __future__ import annotations

import contextlib
import ssl
import stat
from pathlib import Path

import pytest

from lab.tls_ca import LabCertificates, ensure_lab_ca


def _handshake(certs: LabCertificates, client: ssl.SSLContext, hostname: str) -> None:
    """A TLS handshake in memory, the lab's server certificate against `client`."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certs.cert_file, certs.key_file)
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_end = client.wrap_bio(to_client, to_server, server_hostname=hostname)
    server_end = server.wrap_bio(to_server, to_client, server_side=True)
    for _ in range(5):
        for end in (client_end, server_end):
            with contextlib.suppress(ssl.SSLWantReadError):
                end.do_handshake()
    client_end.do_handshake()  # done: returns at once; otherwise raises what went wrong


def test_the_server_certificate_is_valid_for_loopback_under_the_lab_ca(tmp_path: Path) -> None:
    certs = ensure_lab_ca(tmp_path)
    trusting = ssl.create_default_context(cafile=str(certs.ca_file))
    _handshake(certs, trusting, "127.0.0.1")
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _handshake(certs, trusting, "pbx.example")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(certs, ssl.create_default_context(), "127.0.0.1")  # the system's CAs


def test_made_once_with_the_keys_owner_only(tmp_path: Path) -> None:
    certs = ensure_lab_ca(tmp_path)
    assert stat.S_IMODE(certs.key_file.stat().st_mode) == 0o600
    made = certs.cert_file.stat().st_mtime_ns
    assert ensure_lab_ca(tmp_path) == certs
    assert certs.cert_file.stat().st_mtime_ns == made
