"""A throwaway certificate authority for the lab: one CA and one server certificate for
127.0.0.1, made with the openssl command, so AMI (`tls://`) and Mosquitto (`mqtts://`) are
tested over real TLS with the clients checking the certificate (CALLSLA_TLS_CA_FILE)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from lab.processes import LabStartError

_DAYS = "30"


@dataclass(frozen=True)
class LabCertificates:
    ca_file: Path  # what the clients trust
    cert_file: Path  # the servers' certificate, signed by the CA, for 127.0.0.1 and localhost
    key_file: Path  # its private key (0600)


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LabStartError(f"openssl {args[0]}: {result.stderr.strip()}")


def ensure_lab_ca(folder: Path) -> LabCertificates:
    """Make the CA and the server certificate once per lab folder; later starts reuse them."""
    certs = LabCertificates(ca_file=folder / "ca.pem", cert_file=folder / "server.pem",
                            key_file=folder / "server.key")
    if all(path.exists() for path in (certs.ca_file, certs.cert_file, certs.key_file)):
        return certs
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, request = folder / "ca.key", folder / "server.csr"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", _DAYS,
             "-subj", "/CN=callsla lab CA", "-keyout", str(ca_key), "-out", str(certs.ca_file))
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(certs.key_file), "-out", str(request))
    extensions = folder / "server.ext"
    extensions.write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                          "extendedKeyUsage = serverAuth\n")
    _openssl("x509", "-req", "-in", str(request), "-CA", str(certs.ca_file), "-CAkey",
             str(ca_key), "-CAcreateserial", "-days", _DAYS, "-extfile", str(extensions),
             "-out", str(certs.cert_file))
    for key in (ca_key, certs.key_file):
        key.chmod(0o600)
    return certs
