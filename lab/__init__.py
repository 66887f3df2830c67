"""The PBX lab: a real Asterisk 22 in a Debian sid chroot, Mosquitto, Prometheus and PostgreSQL,
all on loopback, built and started by the project itself for tests and the demo."""

from lab.config import LabConfig, LabPorts
from lab.stack import Lab

__all__ = ["Lab", "LabConfig", "LabPorts"]
