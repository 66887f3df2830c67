"""Connection settings: environment variables (CALLSLA_*) overridden by equal command-line flags."""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_METRICS_ADDR = "127.0.0.1:9464"


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

    def redacted(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}{self.path}"


def parse_endpoint(name: str, url: str, *, schemes: dict[str, int]) -> Endpoint:
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

    ami_url: str | None = None
    mqtt_url: str | None = None
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
        if not self.ami_url:
            return None
        return parse_endpoint("CALLSLA_AMI_URL", self.ami_url, schemes={"tcp": 5038})

    @property
    def mqtt(self) -> Endpoint | None:
        if not self.mqtt_url:
            return None
        return parse_endpoint("CALLSLA_MQTT_URL", self.mqtt_url, schemes={"mqtt": 1883})

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
    ("--mqtt-url", "CALLSLA_MQTT_URL", "mqtt_url"),
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
_PATHS = ("charter", "queue_log", "cdr_csv", "voicemail_spool")


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
