"""The lab's Asterisk: `asterisk_conf/` installed into the chroot and run in the background."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from lab.config import LabConfig
from lab.processes import LabStartError, ManagedProcess, port_open, wait_until
from lab.sip import phonebook
from lab.tls_ca import ensure_lab_ca
from pbx_setup.installer import InstallTarget, install

log = logging.getLogger(__name__)

LAB_LOCAL = Path(__file__).resolve().parent / "asterisk_local"

ASTERISK_CONF = """\
; Written by the lab. [directories] must not be a template section `(!)`, or Asterisk ignores
; the whole file and falls back to /etc/asterisk.
[directories]
astcachedir => {inst}/cache
astetcdir => {inst}/etc
astmoddir => /usr/lib/x86_64-linux-gnu/asterisk/modules
astvarlibdir => /var/lib/asterisk
astdbdir => {inst}/db
astkeydir => /var/lib/asterisk
astdatadir => /usr/share/asterisk
astagidir => /usr/share/asterisk/agi-bin
astspooldir => {inst}/spool
astrundir => {inst}/run
astlogdir => {inst}/log
astsbindir => /usr/sbin

[options]
; Local-channel callers send no audio; without this VoiceMail() gives up after ~4 s.
transmit_silence = yes
verbose = 3
documentation_language = en_US
"""

RTP_CONF = """\
; Written by the lab: Asterisk's RTP ports apart from the SIP phones' ports (lab.sip) and from
; other labs. strictrtp off: a SIPp caller sends DTMF from its media port while its RTP is
; recorded on another one (the port its SDP names).
[general]
rtpstart = {start}
rtpend = {end}
strictrtp = no
"""


class AsteriskPbx:
    """One Asterisk instance inside the shared chroot, in its own folder `/srv/callsla/<lab>`."""

    def __init__(self, config: LabConfig, root: Path) -> None:
        self.config = config
        self.root = root
        self.inst = f"/srv/callsla/{config.instance}"
        self.process = ManagedProcess("asterisk", config.lab_dir / "run")
        self.install_report: list[str] = []

    def host_path(self, chroot_path: str) -> Path:
        """Where a path inside the chroot is on the host."""
        return self.root / chroot_path.lstrip("/")

    @property
    def conf_arg(self) -> list[str]:
        return ["-C", f"{self.inst}/etc/asterisk.conf"]

    def substitutions(self) -> dict[str, str]:
        ports = self.config.ports
        return {
            "@@AMI_PORT@@": str(ports.ami),
            "@@AMI_TLS_PORT@@": str(ports.ami_tls),
            "@@AMI_USER@@": self.config.ami_user,
            "@@AMI_SECRET@@": self.config.ami_secret,
            "@@FASTAGI_PORT@@": str(ports.fastagi),
            "@@SIP_PORT@@": str(ports.sip),
            "@@INSTANCE_DIR@@": self.inst,
            **phonebook.substitutions(ports),
        }

    def install_config(self) -> None:
        """Install onto a fresh etc/ as a site does (`callsla pbx install`), then the lab's
        local/ files over the skeletons: every lab test runs on the installer's result."""
        inst = self.host_path(self.inst)
        shutil.rmtree(inst, ignore_errors=True)
        etc = inst / "etc"
        # The call flows' Malay and English prompts, spoken once per text change and cached;
        # the chroot's music (asterisk-moh-opsound-gsm) is found, so nothing is written there.
        self.install_report = install(InstallTarget(
            etc=etc, sounds=inst / "sounds", moh=self.host_path("/usr/share/asterisk/moh"),
            log_dir=inst / "log", prompt_cache=self.config.cache_dir))
        for template in sorted(LAB_LOCAL.glob("*.conf")):
            text = template.read_text()
            for key, value in self.substitutions().items():
                text = text.replace(key, value)
            (etc / "local" / template.name).write_text(text)
        (etc / "asterisk.conf").write_text(ASTERISK_CONF.format(inst=self.inst))
        certs = ensure_lab_ca(self.config.tls_dir)  # AMI's TLS listener (manager-general)
        keys = etc / "keys"
        keys.mkdir(mode=0o700)
        for source in (certs.cert_file, certs.key_file):
            shutil.copyfile(source, keys / source.name)
            (keys / source.name).chmod(0o600)
        ports = self.config.ports
        (etc / "rtp.conf").write_text(RTP_CONF.format(start=ports.rtp_start, end=ports.rtp_end))
        # spool/voicemail as Debian's asterisk package has it: the agi-server and the console
        # read CALLSLA_VOICEMAIL_SPOOL from the start, before the first message is left.
        for sub in ("cache", "db", "spool/voicemail", "run", "log"):
            (inst / sub).mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 30.0) -> float:
        """Start Asterisk and wait until it is fully booted; return the seconds it took."""
        self.stop_leftover()
        # Another checkout's lab on the same offset shares this instance folder: installing
        # would delete its running Asterisk's files (its control socket, logs, spool).
        if port_open(self.config.ports.ami):
            raise LabStartError(f"port {self.config.ports.ami} is taken (another lab on offset "
                                f"{self.config.ports.offset}?): set CALLSLA_LAB_PORT_OFFSET")
        self.install_config()
        self.process.start(["chroot", str(self.root), "/usr/sbin/asterisk", *self.conf_arg,
                            "-f", "-n"])

        def booted() -> bool:
            if not self.process.running():
                raise LabStartError(f"Asterisk exited at start: {self.process.log_tail()}")
            return port_open(self.config.ports.ami)

        took = wait_until(booted, timeout, f"Asterisk AMI on port {self.config.ports.ami}")
        self.cli("core waitfullybooted")
        return took

    def cli(self, command: str, timeout: float = 20.0) -> str:
        """Run one CLI command through the remote console (`asterisk -rx`)."""
        result = subprocess.run(
            ["chroot", str(self.root), "/usr/sbin/asterisk", *self.conf_arg, "-rx", command],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
        if result.returncode != 0:
            raise LabStartError(f"asterisk -rx {command!r}: {result.stderr.strip()}")
        return result.stdout

    def stop(self) -> None:
        if self.process.running():
            try:
                self.cli("core stop now", timeout=10)
                assert self.process.process is not None
                self.process.process.wait(10)
            except (LabStartError, subprocess.TimeoutExpired):
                log.warning("Asterisk did not stop on `core stop now`; terminating it")
        self.process.stop()

    def stop_leftover(self) -> None:
        """End an Asterisk left by a killed run of this lab (its pid file names it)."""
        self.process.kill_leftover()

    @property
    def log_dir(self) -> Path:
        return self.host_path(f"{self.inst}/log")

    @property
    def spool_dir(self) -> Path:
        return self.host_path(f"{self.inst}/spool")

    @property
    def prompts_dir(self) -> Path:
        """The call flows' prompts (`<lang>/<key>.wav`), built at start: CALLSLA_PROMPTS."""
        return self.host_path(f"{self.inst}/sounds/callsla")
