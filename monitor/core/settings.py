"""Connection settings: environment variables (CALLSLA_*) overridden by equal command-line flags."""

from __future__ import annotations

import argparse
import ipaddress
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_METRICS_ADDR = "127.0.0.1:9464"
AMI_SCHEMES = {"tcp": 5038, "tls": 5039}
MQTT_SCHEMES = {"mqtt": 1883, "mqtts": 8883}
TLS_SCHEMES = frozenset({"tls", "mqtts"})


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the setting and the fix."""


@dataclass(frozen=True)
class Endpoint:
    """A parsed connection URL. The secret is kept out of repr so it never reaches a log."""

    scheme: str
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    path: str = ""
    # The CA that signs the server's certificate (CALLSLA_TLS_CA_FILE); None: the system's.
    ca_file: Path | None = None

    @property
    def tls(self) -> bool:
        """`tls://` (AMI) and `mqtts://` (MQTT) connect over TLS, checking the certificate."""
        return self.scheme in TLS_SCHEMES

    def redacted(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}{self.path}"


def parse_endpoint(name: str, url: str, *, schemes: dict[str, int],
                   ca_file: Path | None = None) -> Endpoint:
    """Parse `scheme://user:pass@host:port`; `schemes` maps each allowed scheme to its port."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise SettingsError(f"{name}: not a URL ({exc})") from exc
    if parts.scheme not in schemes:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise SettingsError(f"{name}: {url!r} must start with {allowed}")
    if not parts.hostname:
        raise SettingsError(f"{name}: {url!r} has no host")
    try:
        port = parts.port or schemes[parts.scheme]
    except ValueError as exc:
        raise SettingsError(f"{name}: bad port in {url!r}") from exc
    return Endpoint(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        path=parts.path,
        ca_file=ca_file,
    )


def parse_listen_addr(name: str, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    # isdigit() alone takes '²', which int() refuses
    if not sep or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise SettingsError(f"{name}: {value!r} must be HOST:PORT, e.g. {DEFAULT_METRICS_ADDR}")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - an explicit ':PORT' asks for all


@dataclass(frozen=True)
class Settings:
    """Everything the monitor connects to. Built by `from_sources`, never by hand in production."""

    ami_url: str | None = None  # the monitor's AMI user; the others fall back to it
    agi_ami_url: str | None = None  # the agi-server's own AMI user (write = call)
    officer_ami_url: str | None = None  # `callsla officer`'s own AMI user (write = system)
    mqtt_url: str | None = None  # the monitor's MQTT user: subscribes, never publishes
    mqtt_publish_url: str | None = None  # publishers: agi-server, events send, callbacks close
    mqtt_client_suffix: str = ""  # tells apart two monitors of one PBX on one host
    tls_ca_file: Path | None = None  # CA of the AMI and MQTT servers' certificates
    db_url: str = "sqlite:///callsla.db"
    metrics_addr: str = DEFAULT_METRICS_ADDR
    pbx: str = "pbx1"
    charter: Path | None = None
    queue_log: Path | None = None  # Asterisk's queue_log, read to backfill a gap (optional)
    cdr_csv: Path | None = None  # Asterisk's cdr-csv/Master.csv, for transfer and direct legs
    # Where customer calls enter (the trunk's inbound contexts); `*` measures every call.
    customer_contexts: str = "from-pstn"
    # The web console (issue 12)
    console_idle_minutes: str = "15"  # a session with no request for this long ends
    console_secure_cookies: str = "0"  # 1 when browsers reach the console over HTTPS
    wallboard_token: str = field(default="", repr=False)  # empty: /wallboard is public
    voicemail_spool: Path | None = None  # the PBX's spool/voicemail, readable from here
    console_sso_header: str = ""  # e.g. X-Remote-User, set by the site's reverse proxy
    console_sso_proxies: str = ""  # the proxies' addresses, comma-separated: trusted for it

    @property
    def console_idle_seconds(self) -> float:
        try:
            minutes = float(self.console_idle_minutes)
        except ValueError:
            minutes = -1.0
        if not 0 < minutes <= 24 * 60:
            raise SettingsError(f"CALLSLA_CONSOLE_IDLE_MINUTES: {self.console_idle_minutes!r} "
                                "must be minutes between 1 and 1440")
        return minutes * 60

    @property
    def secure_cookies(self) -> bool:
        if self.console_secure_cookies not in ("0", "1"):
            raise SettingsError(f"CALLSLA_CONSOLE_SECURE_COOKIES: "
                                f"{self.console_secure_cookies!r} must be 0 or 1")
        return self.console_secure_cookies == "1"

    def _endpoint(self, name: str, url: str | None, schemes: dict[str, int]) -> Endpoint | None:
        if not url:
            return None
        return parse_endpoint(name, url, schemes=schemes, ca_file=self.tls_ca_file)

    @property
    def sso_proxies(self) -> frozenset[str]:
        """The reverse proxies' addresses, canonical (`::1`, `127.0.0.1`)."""
        proxies = set()
        for part in filter(None, (p.strip() for p in self.console_sso_proxies.split(","))):
            try:
                proxies.add(str(ipaddress.ip_address(part)))
            except ValueError:
                raise SettingsError(f"CALLSLA_CONSOLE_SSO_PROXIES: {part!r} is not an IP "
                                    "address") from None
        if bool(proxies) != bool(self.console_sso_header.strip()):
            raise SettingsError("CALLSLA_CONSOLE_SSO_HEADER and CALLSLA_CONSOLE_SSO_PROXIES "
                                "are set together (the header is trusted only from the proxy)")
        return frozenset(proxies)

    @property
    def ami(self) -> Endpoint | None:
        """The monitor's AMI user (read only)."""
        return self._endpoint("CALLSLA_AMI_URL", self.ami_url, AMI_SCHEMES)

    @property
    def agi_ami(self) -> Endpoint | None:
        """The agi-server's AMI user; CALLSLA_AMI_URL when it has none of its own."""
        if self.agi_ami_url:
            return self._endpoint("CALLSLA_AGI_AMI_URL", self.agi_ami_url, AMI_SCHEMES)
        return self.ami

    @property
    def officer_ami(self) -> Endpoint | None:
        """`callsla officer`'s AMI user; CALLSLA_AMI_URL when it has none of its own."""
        if self.officer_ami_url:
            return self._endpoint("CALLSLA_OFFICER_AMI_URL", self.officer_ami_url, AMI_SCHEMES)
        return self.ami

    @property
    def mqtt(self) -> Endpoint | None:
        """The monitor's MQTT user (subscribes to its PBX's events)."""
        return self._endpoint("CALLSLA_MQTT_URL", self.mqtt_url, MQTT_SCHEMES)

    @property
    def publisher_mqtt(self) -> Endpoint | None:
        """The MQTT user that publishes events; CALLSLA_MQTT_URL when it has none of its own."""
        if self.mqtt_publish_url:
            return self._endpoint("CALLSLA_MQTT_PUBLISH_URL", self.mqtt_publish_url, MQTT_SCHEMES)
        return self.mqtt

    def mqtt_client_id(self, part: str, host: str) -> str:
        """A client id of its own per PBX, host and instance: a second client with the same id
        would take over the first one's persistent session (the broker drops the first)."""
        suffix = f"-{self.mqtt_client_suffix}" if self.mqtt_client_suffix else ""
        return f"callsla-{part}-{self.pbx}-{host}{suffix}"

    @staticmethod
    def _check_ca_file(path: Path) -> None:
        """Load it once at start: a bad file fails here, not at the first TLS connection."""
        if not _is(path, Path.is_file):
            raise SettingsError(f"CALLSLA_TLS_CA_FILE: no CA file at {path}")
        try:
            ssl.create_default_context(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise SettingsError(f"CALLSLA_TLS_CA_FILE: {path} holds no usable CA certificate "
                                f"({exc})") from exc

    @property
    def customer_context_names(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.customer_contexts.split(",") if c.strip())

    @property
    def metrics_listen(self) -> tuple[str, int]:
        return parse_listen_addr("CALLSLA_METRICS_ADDR", self.metrics_addr)

    def validate(self) -> None:
        """Parse every setting once so a bad one fails at start, with its name."""
        _ = self.ami, self.mqtt, self.metrics_listen, self.console_idle_seconds
        _ = self.secure_cookies, self.sso_proxies
        _ = self.agi_ami, self.officer_ami, self.publisher_mqtt
        if any(not (ch.isalnum() or ch in "-_.") for ch in self.mqtt_client_suffix):
            raise SettingsError(f"CALLSLA_MQTT_CLIENT_SUFFIX: {self.mqtt_client_suffix!r} may "
                                "hold only letters, digits, '-', '_' and '.'")
        if self.tls_ca_file is not None:
            self._check_ca_file(self.tls_ca_file)
        _ = self.secure_cookies
        if not self.db_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise SettingsError(
                f"CALLSLA_DB_URL: {self.db_url!r} must be sqlite:///path or postgresql://..."
            )
        if not self.pbx or any(c in self.pbx for c in '"\\\n'):
            raise SettingsError(f"CALLSLA_PBX: {self.pbx!r} is not a usable label value")
        if not self.customer_context_names or any(
                any(ch.isspace() or ch in "\"'" for ch in c) for c in self.customer_context_names):
            raise SettingsError(f"CALLSLA_CUSTOMER_CONTEXTS: {self.customer_contexts!r} must be "
                                "dialplan context names separated by commas, or *")
        if self.voicemail_spool is not None and not _is(self.voicemail_spool, Path.is_dir):
            raise SettingsError(f"CALLSLA_VOICEMAIL_SPOOL: no folder at {self.voicemail_spool}")
        if self.charter is not None and not _is(self.charter, Path.is_file):
            raise SettingsError(f"CALLSLA_CHARTER: no charter file at {self.charter}")


def _is(path: Path, test: Callable[[Path], bool]) -> bool:
    """`test(path)`, False for a path the system cannot even look up (a name too long)."""
    try:
        return test(path)
    except OSError:
        return False


# (flag, environment variable, Settings field)
_SOURCES = (
    ("--ami-url", "CALLSLA_AMI_URL", "ami_url"),
    ("--agi-ami-url", "CALLSLA_AGI_AMI_URL", "agi_ami_url"),
    ("--officer-ami-url", "CALLSLA_OFFICER_AMI_URL", "officer_ami_url"),
    ("--mqtt-url", "CALLSLA_MQTT_URL", "mqtt_url"),
    ("--mqtt-publish-url", "CALLSLA_MQTT_PUBLISH_URL", "mqtt_publish_url"),
    ("--mqtt-client-suffix", "CALLSLA_MQTT_CLIENT_SUFFIX", "mqtt_client_suffix"),
    ("--tls-ca-file", "CALLSLA_TLS_CA_FILE", "tls_ca_file"),
    ("--db-url", "CALLSLA_DB_URL", "db_url"),
    ("--metrics-addr", "CALLSLA_METRICS_ADDR", "metrics_addr"),
    ("--pbx", "CALLSLA_PBX", "pbx"),
    ("--charter", "CALLSLA_CHARTER", "charter"),
    ("--queue-log", "CALLSLA_QUEUE_LOG", "queue_log"),
    ("--cdr-csv", "CALLSLA_CDR_CSV", "cdr_csv"),
    ("--customer-contexts", "CALLSLA_CUSTOMER_CONTEXTS", "customer_contexts"),
    ("--console-idle-minutes", "CALLSLA_CONSOLE_IDLE_MINUTES", "console_idle_minutes"),
    ("--console-secure-cookies", "CALLSLA_CONSOLE_SECURE_COOKIES", "console_secure_cookies"),
    ("--wallboard-token", "CALLSLA_WALLBOARD_TOKEN", "wallboard_token"),
    ("--voicemail-spool", "CALLSLA_VOICEMAIL_SPOOL", "voicemail_spool"),
    ("--console-sso-header", "CALLSLA_CONSOLE_SSO_HEADER", "console_sso_header"),
    ("--console-sso-proxies", "CALLSLA_CONSOLE_SSO_PROXIES", "console_sso_proxies"),
)
_PATHS = ("charter", "queue_log", "cdr_csv", "voicemail_spool", "tls_ca_file")


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting; defaults stay None so the environment shows through."""
    for flag, env, _field in _SOURCES:
        parser.add_argument(flag, default=None, help=f"overrides ${env}")


def settings_from_sources(
    args: argparse.Namespace | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Flags win over environment variables, which win over the defaults."""
    env = dict(os.environ) if environ is None else environ
    values: dict[str, object] = {}
    for flag, var, name in _SOURCES:
        flag_value = getattr(args, flag.lstrip("-").replace("-", "_"), None) if args else None
        value = flag_value if flag_value is not None else env.get(var)
        if value:
            values[name] = Path(value) if name in _PATHS else value
    settings = Settings(**values)  # type: ignore[arg-type]
    settings.validate()
    return settings
