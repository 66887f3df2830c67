"""Mosquitto, Prometheus and PostgreSQL from Debian, each on loopback with its own data folder."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

from lab.config import LabConfig
from lab.processes import LabStartError, ManagedProcess, port_open, wait_until
from lab.tls_ca import ensure_lab_ca

POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def _chown(path: Path, user: str) -> None:
    shutil.chown(path, user, user)
    for child in path.rglob("*"):
        shutil.chown(child, user, user)


# Who may do what on the lab's broker, as docs/security.md asks of a site: the agi-server
# publishes call-flow events, the help desk only callback_closed, the monitor only reads them,
# the harness does anything.
MOSQUITTO_ACL = """\
user {admin}
topic readwrite #

user callsla-agi
topic write callsla/+/events/#

user callsla-monitor
topic read callsla/+/events/#

user callsla-helpdesk
topic write callsla/+/events/callback_closed
"""


class Mosquitto:
    """The MQTT broker the AGI scripts publish to; persistence on, so QoS 1 survives a restart.

    No anonymous client; users with passwords and an ACL (MOSQUITTO_ACL); a second listener
    with TLS (`mqtts://`) signed by the lab's throwaway CA."""

    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.dir = config.lab_dir / "mosquitto"
        self.process = ManagedProcess("mosquitto", config.lab_dir / "run")

    def start(self, timeout: float = 10.0) -> float:
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "mosquitto.conf"
        self._write_users()
        certs = ensure_lab_ca(self.config.tls_dir)
        ports = self.config.ports
        conf.write_text(
            f"listener {ports.mqtt} 127.0.0.1\n"
            f"listener {ports.mqtts} 127.0.0.1\n"
            f"cafile {certs.ca_file}\ncertfile {certs.cert_file}\nkeyfile {certs.key_file}\n"
            "allow_anonymous false\n"
            f"password_file {self.dir / 'passwords'}\n"
            f"acl_file {self.dir / 'acl'}\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "log_type subscribe\n"
            "persistence true\n"
            f"persistence_location {self.dir}/\n"
            "autosave_interval 1\n"
            "user root\n"
        )
        self.process.start(["mosquitto", "-c", str(conf)])
        return wait_until(self._ready, timeout, f"Mosquitto on port {self.config.ports.mqtt}")

    def _write_users(self) -> None:
        """The harness's admin and each part's user, all with the lab's one secret."""
        passwords = self.dir / "passwords"
        passwords.unlink(missing_ok=True)
        passwords.touch(0o600)
        for user in (self.config.mqtt_user, "callsla-agi", "callsla-monitor", "callsla-helpdesk"):
            subprocess.run(["mosquitto_passwd", "-b", str(passwords), user,
                            self.config.ami_secret], check=True, capture_output=True)
        (self.dir / "acl").write_text(MOSQUITTO_ACL.format(admin=self.config.mqtt_user))

    def _ready(self) -> bool:
        if not self.process.running():
            raise LabStartError(f"Mosquitto exited at start: {self.process.log_tail()}")
        return port_open(self.config.ports.mqtt) and port_open(self.config.ports.mqtts)

    def stop(self) -> None:
        self.process.stop()


class Prometheus:
    """Scrapes the monitor every second (so tests see figures quickly) and loads our rules.

    `metrics_ports`: the monitors it scrapes, the lab's own by default; several when one
    Prometheus serves a monitor per PBX."""

    def __init__(self, config: LabConfig, rule_files: list[Path] | None = None, *,
                 metrics_ports: list[int] | None = None) -> None:
        self.config = config
        self.dir = config.lab_dir / "prometheus"
        self.rule_files = rule_files or []
        self.metrics_ports = metrics_ports or [config.ports.metrics]
        self.process = ManagedProcess("prometheus", config.lab_dir / "run")

    def write_config(self) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        rules = "".join(f"  - {path}\n" for path in self.rule_files)
        targets = ", ".join(f"'127.0.0.1:{port}'" for port in self.metrics_ports)
        conf = self.dir / "prometheus.yml"
        conf.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            + (f"rule_files:\n{rules}" if rules else "")
            + "scrape_configs:\n"
            "  - job_name: callsla\n"
            "    static_configs:\n"
            f"      - targets: [{targets}]\n"
        )
        return conf

    def start(self, timeout: float = 30.0) -> float:
        conf = self.write_config()
        data = self.dir / "data"
        shutil.rmtree(data, ignore_errors=True)
        self.process.start([
            "prometheus", f"--config.file={conf}", f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{self.config.ports.prometheus}",
            "--web.enable-lifecycle", "--storage.tsdb.retention.time=2d",
        ])
        return wait_until(self._ready, timeout,
                          f"Prometheus on port {self.config.ports.prometheus}")

    def _ready(self) -> bool:
        if not self.process.running():
            raise LabStartError(f"Prometheus exited at start: {self.process.log_tail()}")
        return port_open(self.config.ports.prometheus)

    def stop(self) -> None:
        self.process.stop()


def _reachable_by(path: Path, user: str) -> bool:
    """Whether `user` can enter every folder down to `path` (what initdb needs)."""
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(path)],
                           check=False, capture_output=True)
    return probe.returncode == 0


class Postgres:
    """A throw-away cluster owned by the `postgres` user (the server refuses to run as root).

    Its data is not under the checkout's `.lab/` but under the lab's state folder
    (`/var/lib/callsla-lab/<lab>-<checkout>/postgres`, CALLSLA_LAB_STATE): `postgres` must
    enter every folder above its data, and a checkout may live where only root can (a clone
    in /root, a 0700 `mktemp -d`)."""

    def __init__(self, config: LabConfig) -> None:
        self.config = config
        self.dir = config.service_state_dir / "postgres"
        # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to leave.
        self.process = ManagedProcess("postgres", config.lab_dir / "run",
                                      stop_signal=signal.SIGINT)

    def start(self, timeout: float = 30.0) -> float:
        if not POSTGRES_BIN:
            raise LabStartError("PostgreSQL is not installed: run `make setup` (apt) first")
        bin_dir = POSTGRES_BIN[-1]
        data = self.dir / "data"
        self.process.kill_leftover()
        if not (data / "PG_VERSION").exists():
            shutil.rmtree(self.dir, ignore_errors=True)
            data.mkdir(parents=True)
            self.dir.parent.chmod(0o755)
            if not _reachable_by(self.dir, "postgres"):
                raise LabStartError(f"user postgres cannot enter {self.dir}: set "
                                    "CALLSLA_LAB_STATE to a folder every user can enter")
            _chown(self.dir, "postgres")
            subprocess.run(
                ["runuser", "-u", "postgres", "--", str(bin_dir / "initdb"), "-D", str(data),
                 "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
                check=True, capture_output=True,
            )
        else:
            _chown(self.dir, "postgres")
            (data / "postmaster.pid").unlink(missing_ok=True)
        self.process.start(
            [str(bin_dir / "postgres"), "-D", str(data), "-c", "listen_addresses=127.0.0.1",
             "-c", f"port={self.config.ports.postgres}",
             "-c", f"unix_socket_directories={self.dir}",
             "-c", "fsync=off"],
            user="postgres",
        )
        took = wait_until(lambda: self._ready(bin_dir), timeout,
                          f"PostgreSQL on port {self.config.ports.postgres}")
        self._ensure_database(bin_dir)
        return took

    def _ready(self, bin_dir: Path) -> bool:
        """Ready means accepting connections, not merely listening (it listens while recovering)."""
        if not self.process.running():
            raise LabStartError(f"PostgreSQL exited at start: {self.process.log_tail()}")
        if not port_open(self.config.ports.postgres):
            return False
        probe = subprocess.run(
            [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1",
             "-p", str(self.config.ports.postgres)], check=False,
        )
        return probe.returncode == 0

    def _ensure_database(self, bin_dir: Path) -> None:
        psql = [str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(self.config.ports.postgres),
                "-U", "postgres", "-tAc"]
        probe = subprocess.run([*psql, "SELECT 1 FROM pg_roles WHERE rolname='callsla'"],
                               capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            raise LabStartError(f"PostgreSQL refused the lab's query: {probe.stderr.strip()}")
        exists = probe.stdout.strip()
        if not exists:
            subprocess.run([*psql, "CREATE ROLE callsla LOGIN SUPERUSER"], check=True,
                           capture_output=True)
            subprocess.run([*psql, "CREATE DATABASE callsla OWNER callsla"], check=True,
                           capture_output=True)

    def stop(self) -> None:
        self.process.stop()
