"""`callsla agi-server` (the FastAGI server with its event sender), `callsla events send` and
`callsla prompts build`.

Events go to MQTT when CALLSLA_MQTT_URL is set, else as AMI UserEvents when CALLSLA_AMI_URL
is (docs/events.md): one transport per sender, so each event is sent once."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
from pathlib import Path
from typing import Any

from agi_scripts.ami_sender import ACK_EVENTS, AmiSender
from agi_scripts.flows import CallFlows, FlowSettings
from agi_scripts.interrupter import PromptInterrupter
from agi_scripts.outbox import (
    DEFAULT_OUTBOX,
    OUTBOX_ENV,
    EventSender,
    MqttSender,
    Outbox,
    outbox_folder,
    send_until_empty,
)
from agi_scripts.peer_allowlist import DEFAULT_AGI_ALLOW, PeerAllowlist
from agi_scripts.prompt_build import build_prompts
from agi_scripts.prompts import TEXTS_ENV
from agi_scripts.server import DEFAULT_MAX_SESSIONS, FastAgiServer
from monitor.ami import KeptAmiConnection
from monitor.core.charter import load_charter
from monitor.core.settings import (
    Settings,
    SettingsError,
    add_settings_arguments,
    parse_listen_addr,
    settings_from_sources,
)

log = logging.getLogger(__name__)

# (flag, environment variable, default)
_AGI_SOURCES = (
    ("--agi-addr", "CALLSLA_AGI_ADDR", "127.0.0.1:4573"),
    ("--directory", "CALLSLA_DIRECTORY", ""),
    ("--outbox", OUTBOX_ENV, DEFAULT_OUTBOX),
    ("--agi-allow", "CALLSLA_AGI_ALLOW", DEFAULT_AGI_ALLOW),
    ("--agi-max-sessions", "CALLSLA_AGI_MAX_SESSIONS", str(DEFAULT_MAX_SESSIONS)),
)
PROMPT_CACHE_ENV = "CALLSLA_PROMPT_CACHE"
# CALLSLA_VOICEMAIL_SPOOL is a monitor setting too (monitor/core/settings.py): one flag for both.


def _agi_setting(args: argparse.Namespace, flag: str) -> str:
    for name, env, default in _AGI_SOURCES:
        if name == flag:
            value = getattr(args, flag.lstrip("-").replace("-", "_"), None)
            return str(value or os.environ.get(env) or default)
    raise KeyError(flag)


def _max_sessions(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 100_000:
        raise SettingsError(f"CALLSLA_AGI_MAX_SESSIONS: {text!r} must be a number of "
                            "sessions between 1 and 100000")
    return int(text)


async def run_agi_server(args: argparse.Namespace) -> None:
    settings = settings_from_sources(args)
    host, port = parse_listen_addr("CALLSLA_AGI_ADDR", _agi_setting(args, "--agi-addr"))
    allow = PeerAllowlist.parse(_agi_setting(args, "--agi-allow"))
    max_sessions = _max_sessions(_agi_setting(args, "--agi-max-sessions"))
    directory = _agi_setting(args, "--directory")
    outbox = Outbox(Path(_agi_setting(args, "--outbox")))
    log.info("agi-server pbx=%s ami=%s mqtt=%s", settings.pbx,
             settings.agi_ami.redacted() if settings.agi_ami else "-",
             settings.publisher_mqtt.redacted() if settings.publisher_mqtt else "-")
    ami: KeptAmiConnection | None = None
    if settings.agi_ami is not None:  # lets a freed officer cut a status message short, and
        ami = kept_ami(settings)  # carries the events without MQTT; logs in again after a
        await ami.start()  # drop
    flows = CallFlows(FlowSettings(
        pbx=settings.pbx, charter=load_charter(settings.charter),
        directory_file=Path(directory) if directory else None,
        voicemail_spool=settings.voicemail_spool), outbox,
        interrupter=PromptInterrupter(ami))
    flows.directory()  # a broken directory fails here, at start, not on a caller
    server = FastAgiServer({"officer_call": flows.officer_call}, host=host, port=port,
                           allow=allow, max_sessions=max_sessions)
    tasks: list[asyncio.Task[Any]] = []
    sender = event_sender(settings, outbox, ami,
                          client_id=settings.mqtt_client_id("agi", socket.gethostname()))
    if sender is not None:
        tasks.append(asyncio.create_task(sender.run(), name="event-sender"))
    try:
        await server.serve_forever()
    finally:
        for task in tasks:
            task.cancel()
        if ami is not None:
            await ami.close()


def _agi_server(args: argparse.Namespace) -> int:
    asyncio.run(run_agi_server(args))
    return 0


def kept_ami(settings: Settings) -> KeptAmiConnection:
    """The agi-server's AMI connection; without MQTT it also reads the monitor's
    acknowledgements (UserEvents: the `user` class only, parsed only if a UserEvent)."""
    assert settings.agi_ami is not None
    if settings.publisher_mqtt is not None:
        return KeptAmiConnection(settings.agi_ami)
    return KeptAmiConnection(settings.agi_ami, event_classes="user", only_events=ACK_EVENTS)


def event_sender(settings: Settings, outbox: Outbox, ami: KeptAmiConnection | None, *,
                 client_id: str) -> EventSender | None:
    """MQTT when CALLSLA_MQTT_PUBLISH_URL (or CALLSLA_MQTT_URL) is set, else AMI UserEvents
    over `ami`; logs which."""
    if settings.publisher_mqtt is not None:
        log.info("call-flow events go to MQTT at %s", settings.publisher_mqtt.redacted())
        return MqttSender(outbox, settings.publisher_mqtt, client_id=client_id)
    if ami is not None and settings.agi_ami is not None:
        log.info("call-flow events go as AMI UserEvents to %s (no MQTT URL)",
                 settings.agi_ami.redacted())
        return AmiSender(outbox, ami, pbx=settings.pbx)
    log.warning("no MQTT URL and no AMI URL: events stay in %s", outbox.folder)
    return None


async def send_stored_events(args: argparse.Namespace, timeout: float = 30.0) -> int:
    """Send what the outbox holds (MQTT, else AMI: until the monitor acknowledges it), then
    exit (classic-AGI sites run this from cron)."""
    settings = settings_from_sources(args)
    if settings.publisher_mqtt is None and settings.agi_ami is None:
        raise SettingsError("CALLSLA_MQTT_PUBLISH_URL (or CALLSLA_MQTT_URL), or "
                            "CALLSLA_AGI_AMI_URL (or CALLSLA_AMI_URL): needed to send events")
    outbox = Outbox(outbox_folder(args.outbox))
    ami = (kept_ami(settings)
           if settings.publisher_mqtt is None and settings.agi_ami else None)
    if ami is not None:
        await ami.start()
    try:
        sender = event_sender(settings, outbox, ami,
                              client_id=settings.mqtt_client_id("send", socket.gethostname()))
        assert sender is not None
        sent, left = await send_until_empty(outbox, sender, timeout=timeout)
    finally:
        if ami is not None:
            await ami.close()
    if left:
        print(f"{left} events still waiting in {outbox.folder}")
        return 1
    print(f"{sent} events sent")
    return 0


def _prompt_cache(flag: str | None) -> Path | None:
    """A folder of earlier builds, keyed by their texts (`callsla pbx install` reads the same)."""
    value = flag or os.environ.get(PROMPT_CACHE_ENV)
    return Path(value) if value else None


def _prompts_build(args: argparse.Namespace) -> int:
    out = build_prompts(Path(args.out),
                        directory_file=Path(args.directory) if args.directory else None,
                        texts_file=Path(args.texts) if args.texts else None,
                        cache_dir=_prompt_cache(args.cache))
    print(f"prompts written to {out}")
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agi = commands.add_parser("agi-server", help="run the FastAGI server for the call flows")
    add_settings_arguments(agi)
    for flag, env, default in _AGI_SOURCES:
        agi.add_argument(flag, default=None, help=f"overrides ${env} (default {default!r})")
    agi.set_defaults(run=_agi_server)
    events = commands.add_parser("events", help="call-flow events waiting in the outbox")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    send = events_sub.add_parser(
        "send", help="send the stored events (MQTT, else AMI UserEvents), then exit")
    add_settings_arguments(send)
    send.add_argument("--outbox", default=None, help="overrides $CALLSLA_OUTBOX")
    send.set_defaults(run=lambda args: asyncio.run(send_stored_events(args)))
    prompts = commands.add_parser("prompts", help="prompt files for the call flows")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    build = prompts_sub.add_parser("build", help="speak texts.toml into 8 kHz WAV files")
    build.add_argument("--out", default="prompts", help="folder for <lang>/<key>.wav")
    build.add_argument("--directory", default=None,
                       help="officers file (names to speak); overrides $CALLSLA_DIRECTORY")
    build.add_argument("--texts", default=None,
                       help=f"prompt texts; overrides ${TEXTS_ENV} (default: the packaged one)")
    build.add_argument("--cache", default=None,
                       help=f"reuse an earlier build of the same texts; overrides "
                            f"${PROMPT_CACHE_ENV} (default: none)")
    build.set_defaults(run=_prompts_build)
