"""Where the lab lives and which loopback ports it uses (several labs can run side by side)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LabPorts:
    """Loopback ports, all shifted by one offset so labs of different checkouts never collide.

    `span` is how many offset steps the lab's SIP phones and RTP ranges may fill (10 ports a
    step): 50 for a lab of its own; less for PBXs packed into one lab's block (three PBXs at
    offsets 0, 16 and 32 with span 16: tests/integration/lab/test_several_pbxs.py)."""

    offset: int = 0
    span: int = 50

    @property
    def ami(self) -> int:
        return 15038 + self.offset

    @property
    def fastagi(self) -> int:
        return 14573 + self.offset

    @property
    def sip(self) -> int:
        return 15060 + self.offset

    @property
    def sip_phones(self) -> int:
        """First port of the SIPp phones' block (`lab.sip`): 10 per offset step of `span`."""
        return 20000 + 10 * self.offset

    @property
    def rtp_start(self) -> int:
        """Asterisk's RTP range, kept apart from the phones' ports and other labs' ranges."""
        return 30000 + 10 * self.offset

    @property
    def rtp_end(self) -> int:
        return self.rtp_start + 10 * self.span - 2

    @property
    def ami_tls(self) -> int:
        return 16038 + self.offset

    @property
    def mqtt(self) -> int:
        return 11883 + self.offset

    @property
    def mqtts(self) -> int:
        return 18883 + self.offset

    @property
    def prometheus(self) -> int:
        return 19090 + self.offset

    @property
    def postgres(self) -> int:
        return 15432 + self.offset

    @property
    def metrics(self) -> int:
        return 19464 + self.offset


@dataclass(frozen=True)
class LabConfig:
    """The lab's folders and ports. `from_env` reads CALLSLA_LAB_* so CI and helpers can move it."""

    lab_dir: Path
    cache_dir: Path
    ports: LabPorts
    # Data of services that run as their own user (PostgreSQL as `postgres`): outside the
    # checkout, which may sit in a directory only root can enter (a clone in /root).
    state_dir: Path = Path("/var/lib/callsla-lab")
    # The harness's own admin user, on AMI and MQTT; the parts log in as `callsla-<part>`
    # with the least rights (lab/asterisk_local/manager-users.conf, lab/services.py).
    ami_user: str = "callsla"
    ami_secret: str = "lab-only-secret"  # noqa: S105 - loopback lab, not a site secret

    @classmethod
    def from_env(cls) -> LabConfig:
        lab_dir = Path(os.environ.get("CALLSLA_LAB_DIR", REPO_ROOT / ".lab"))
        cache_dir = Path(os.environ.get("CALLSLA_LAB_CACHE", "/var/cache/callsla-lab"))
        offset = int(os.environ.get("CALLSLA_LAB_PORT_OFFSET", "0"))
        state_dir = Path(os.environ.get("CALLSLA_LAB_STATE", "/var/lib/callsla-lab"))
        return cls(lab_dir=lab_dir.resolve(), cache_dir=cache_dir, ports=LabPorts(offset),
                   state_dir=state_dir)

    @property
    def instance(self) -> str:
        """Names this lab's folder inside the shared chroot."""
        return f"lab{self.ports.offset}"

    @property
    def service_state_dir(self) -> Path:
        """This lab's folder under `state_dir`: named by offset and checkout, so two
        checkouts never share a database, and the same checkout finds its own again."""
        digest = hashlib.sha256(str(self.lab_dir).encode()).hexdigest()[:10]
        return self.state_dir / f"{self.instance}-{digest}"

    @property
    def ami_url(self) -> str:
        """The harness's admin user: places calls, runs CLI commands."""
        return f"tcp://{self.ami_user}:{self.ami_secret}@127.0.0.1:{self.ports.ami}"

    def part_ami_url(self, part: str, *, tls: bool = False) -> str:
        """The AMI user of one part (`monitor`, `agi`, `officer`), with its least rights."""
        scheme, port = ("tls", self.ports.ami_tls) if tls else ("tcp", self.ports.ami)
        return f"{scheme}://callsla-{part}:{self.ami_secret}@127.0.0.1:{port}"

    @property
    def mqtt_user(self) -> str:
        return self.ami_user

    @property
    def mqtt_url(self) -> str:
        """The harness's MQTT user: reads and writes every topic."""
        return f"mqtt://{self.mqtt_user}:{self.ami_secret}@127.0.0.1:{self.ports.mqtt}"

    def part_mqtt_url(self, part: str, *, tls: bool = False) -> str:
        """The MQTT user of `monitor` (reads the events), `agi` (publishes them) or `helpdesk`
        (publishes callback_closed only); lab/services.py has the ACL."""
        scheme, port = ("mqtts", self.ports.mqtts) if tls else ("mqtt", self.ports.mqtt)
        return f"{scheme}://callsla-{part}:{self.ami_secret}@127.0.0.1:{port}"

    @property
    def tls_dir(self) -> Path:
        """The lab's throwaway CA and server certificate (`lab/tls_ca.py`)."""
        return self.lab_dir / "tls"

    @property
    def postgres_url(self) -> str:
        return f"postgresql://callsla@127.0.0.1:{self.ports.postgres}/callsla"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.prometheus}"
