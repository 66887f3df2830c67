"""`callsla pbx check`: what on a site's Asterisk would make a figure wrong or leave a caller
in silence, each problem with its fix. Reads the PBX's files; `ami_login_problems` adds AMI."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from agi_scripts.prompts import LANGUAGES, load_texts
from pbx_setup.conf_files import read_conf, sections
from pbx_setup.music_on_hold import sound_files

# AMI write classes that let a leaked secret run anything: CLI commands, config files,
# Originate (of any application, System() included), everything.
DANGEROUS_WRITE = frozenset({"all", "command", "config", "originate"})
# The write classes each part's AMI actions need in Asterisk 22 (`manager show command X`):
# the monitor's CoreShowChannels `reporting` (QueueSummary, QueueStatus need none); the
# agi-server's Getvar and ControlPlayback `call`; `callsla officer`'s DBPut `system`.
# `user`: without a broker the agi-server sends the call-flow events as AMI UserEvents and the
# monitor acknowledges each stored one with another.
PART_WRITE = {"monitor": frozenset({"reporting", "user"}),
              "agi-server": frozenset({"call", "user"}),
              "officer": frozenset({"system"})}
_PART_TABLE = "; ".join(f"{part}: write = {','.join(sorted(rights))}"
                        for part, rights in PART_WRITE.items())
# Keywords Asterisk 22 rejects ("Unknown keyword") that older guides still give.
REMOVED_QUEUE_KEYWORDS = frozenset({"eventwhencalled", "eventmemberstatus"})


class Severity(StrEnum):
    ERROR = "error"  # a figure would be wrong or a caller would hear silence: exit 1
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    check: str
    severity: Severity
    what: str
    fix: str

    def line(self) -> str:
        return f"{self.severity.upper()} {self.check}: {self.what}\n    fix: {self.fix}"


@dataclass(frozen=True, kw_only=True)
class PbxFiles:
    """The site's Asterisk folders as this host sees them."""

    etc: Path
    log_dir: Path
    data_dir: Path  # astdatadir: relative music folders start here
    sounds: Path
    answer_seconds: int = 10  # the charter's T-a threshold, the queue's servicelevel
    customer_contexts: tuple[str, ...] = ("from-pstn",)
    texts_file: Path | None = None
    # The AMI user of each part that has its own (`PART_WRITE`'s keys): checked against it.
    part_users: dict[str, str] = field(default_factory=dict)
    root: Path = Path("/")  # where the PBX's `/` is here (a chroot): absolute paths in its files

    def seen_here(self, path: Path) -> Path:
        return self.root / path.relative_to("/") if path.is_absolute() else path


def check_files(pbx: PbxFiles) -> list[Problem]:
    """Every file-based check, in the order an administrator would fix them."""
    return [*_manager(pbx), *_logs(pbx), *_music(pbx), *_options(pbx), *_queue(pbx),
            *_prompts(pbx), *_fastagi(pbx), *_customer_context(pbx), *_unknown_keywords(pbx)]


def _manager(pbx: PbxFiles) -> list[Problem]:
    conf = sections(read_conf(pbx.etc, "manager.conf"))
    problems = []
    if conf.get("general", {}).get("timestampevents", "no").lower() not in ("yes", "true", "1"):
        problems.append(Problem("timestampevents", Severity.ERROR,
                                "AMI events carry no PBX time: waits would be measured with the "
                                "monitor's clock and its network delay",
                                "manager.conf [general]: timestampevents = yes"))
    writes = {user: {c.strip().lower() for c in table.get("write", "").split(",") if c.strip()}
              for user, table in conf.items() if user != "general"}
    for user, write in writes.items():
        too_many = sorted(write & DANGEROUS_WRITE)
        if too_many:
            problems.append(Problem("ami-rights", Severity.ERROR,
                                    f"AMI user {user!r} may write {','.join(too_many)}: its "
                                    "secret would let anyone run anything on the PBX",
                                    f"manager.conf [{user}]: the least rights of its part "
                                    f"({_PART_TABLE}), see local/manager-users.conf"))
    for part, user in pbx.part_users.items():
        extra = sorted(writes.get(user, set()) - PART_WRITE[part] - DANGEROUS_WRITE)
        if extra:
            problems.append(Problem("ami-rights", Severity.WARNING,
                                    f"the {part}'s AMI user {user!r} may also write "
                                    f"{','.join(extra)}, which it never needs",
                                    f"manager.conf [{user}]: write = "
                                    f"{','.join(sorted(PART_WRITE[part]))}"))
    return problems


def _writable(path: Path) -> bool:
    if path.exists():
        return os.access(path, os.W_OK)
    return path.parent.is_dir() and os.access(path.parent, os.W_OK)


def _logs(pbx: PbxFiles) -> list[Problem]:
    logger = sections(read_conf(pbx.etc, "logger.conf")).get("general", {})
    problems = []
    queue_log = pbx.log_dir / logger.get("queue_log_name", "queue_log")
    if logger.get("queue_log", "yes").lower() in ("no", "false", "0"):
        problems.append(Problem("queue_log", Severity.ERROR,
                                "queue_log is off: front-desk calls during a monitor outage "
                                "are lost from the figures", "logger.conf [general]: "
                                "queue_log = yes"))
    elif not queue_log.is_file():
        problems.append(Problem("queue_log", Severity.ERROR,
                                f"{queue_log} does not exist: Asterisk writes no queue_log, so "
                                "an outage cannot be backfilled",
                                f"logger.conf queue_log = yes, then `logger reload`; the folder "
                                f"{pbx.log_dir} must be Asterisk's astlogdir"))
    elif not _writable(queue_log):
        problems.append(Problem("queue_log", Severity.ERROR, f"{queue_log} is not writable",
                                f"chown asterisk: {queue_log}"))
    cdr = pbx.log_dir / "cdr-csv"
    if not cdr.is_dir() or not os.access(cdr, os.W_OK):
        problems.append(Problem("cdr", Severity.ERROR,
                                f"{cdr} is missing or not writable: no CDR for transfer and "
                                "direct-call legs after an outage",
                                f"mkdir {cdr} && chown asterisk: {cdr} (callsla pbx install "
                                "creates it)"))
    return problems


def _music(pbx: PbxFiles) -> list[Problem]:
    problems = []
    for name, table in sections(read_conf(pbx.etc, "musiconhold.conf")).items():
        if name == "general" or table.get("mode", "files") != "files":
            continue
        folder = Path(table.get("directory", "moh"))
        folder = pbx.seen_here(folder) if folder.is_absolute() else pbx.data_dir / folder
        if not sound_files(folder):
            problems.append(Problem("music-on-hold", Severity.ERROR,
                                    f"music class {name!r}: {folder} has no sound file, so "
                                    "Asterisk drops the class and waiting callers hear silence",
                                    "callsla pbx install --moh <folder> (writes a soft tone), "
                                    "or apt-get install asterisk-moh-opsound-wav"))
    return problems


def _options(pbx: PbxFiles) -> list[Problem]:
    options = sections(read_conf(pbx.etc, "asterisk.conf")).get("options", {})
    if options.get("transmit_silence", "no").lower() in ("yes", "true", "1"):
        return []
    return [Problem("transmit_silence", Severity.WARNING,
                    "callers that send no audio make VoiceMail() give up after about 4 s",
                    "asterisk.conf [options]: transmit_silence = yes")]


def _queue(pbx: PbxFiles) -> list[Problem]:
    frontdesk = sections(read_conf(pbx.etc, "queues.conf")).get("frontdesk")
    if frontdesk is None:
        return [Problem("servicelevel", Severity.ERROR, "queues.conf has no [frontdesk] queue",
                        "install asterisk_conf/queues.conf (callsla pbx install)")]
    if frontdesk.get("servicelevel") != str(pbx.answer_seconds):
        return [Problem("servicelevel", Severity.WARNING,
                        f"[frontdesk] servicelevel is {frontdesk.get('servicelevel', 'unset')}, "
                        f"the charter's answer time is {pbx.answer_seconds} s: Asterisk's own "
                        "ServicelevelPerf would disagree with callsla's rate",
                        f"queues.conf [frontdesk]: servicelevel = {pbx.answer_seconds}")]
    return []


def _globals(pbx: PbxFiles) -> dict[str, str]:
    return sections(read_conf(pbx.etc, "extensions.conf")).get("globals", {})


def _prompts(pbx: PbxFiles) -> list[Problem]:
    setting = _globals(pbx).get("CALLSLA_PROMPTS", "callsla")
    folder = pbx.seen_here(Path(setting)) if setting.startswith("/") else pbx.sounds / setting
    texts = load_texts(pbx.texts_file)
    problems = []
    for lang in LANGUAGES:
        missing = sorted(k for k in texts[lang] if not (folder / lang / f"{k}.wav").is_file())
        if missing:
            problems.append(Problem("prompts", Severity.ERROR,
                                    f"{len(missing)} {lang} prompts missing in {folder / lang} "
                                    f"(e.g. {missing[0]}): callers would hear nothing there",
                                    f"callsla pbx install --sounds {pbx.sounds}"))
    return problems


def _fastagi(pbx: PbxFiles) -> list[Problem]:
    url = urlsplit(_globals(pbx).get("CALLSLA_AGI", "agi://127.0.0.1:4573"))
    host, port = url.hostname or "127.0.0.1", url.port or 4573
    try:
        with socket.create_connection((host, port), timeout=2):
            return []
    except OSError as exc:
        return [Problem("fastagi", Severity.ERROR,
                        f"the FastAGI server {host}:{port} is not reachable "
                        f"({exc.strerror or exc}): every transfer would go back to the front "
                        "desk, unannounced",
                        "start `callsla agi-server` (its unit), or set CALLSLA_AGI in "
                        "local/globals.conf")]


def _customer_context(pbx: PbxFiles) -> list[Problem]:
    if "*" in pbx.customer_contexts:
        return []
    contexts = set(sections(read_conf(pbx.etc, "extensions.conf")))
    used = {t.get("context") for t in sections(read_conf(pbx.etc, "pjsip.conf")).values()
            if t.get("type") == "endpoint"}
    problems = []
    for context in pbx.customer_contexts:
        if context not in contexts:
            problems.append(Problem("customer-context", Severity.ERROR,
                                    f"inbound context {context!r} is not in the dialplan: no "
                                    "call would count as a customer's",
                                    "CALLSLA_CUSTOMER_CONTEXTS = the trunk's context"))
        elif context not in used:
            problems.append(Problem("customer-context", Severity.WARNING,
                                    f"no PJSIP endpoint has context = {context}: customer calls "
                                    "enter some other way",
                                    f"local/pjsip.conf: the trunk's endpoint context = {context}"
                                    " (or set CALLSLA_CUSTOMER=1 in your inbound dialplan)"))
    return problems


def _unknown_keywords(pbx: PbxFiles) -> list[Problem]:
    problems = [Problem("unknown-keyword", Severity.WARNING,
                        f"{line.where}: {line.key} is not a keyword of Asterisk 22",
                        f"remove {line.key} (the events it enabled are always sent)")
                for line in read_conf(pbx.etc, "queues.conf")
                if line.key.lower() in REMOVED_QUEUE_KEYWORDS]
    messages = pbx.log_dir / "messages"
    if messages.is_file():
        seen = set()
        for raw in messages.read_text("utf-8", errors="replace").splitlines():
            if "Unknown keyword" in raw or "unknown option" in raw.lower():
                text = raw.split("] ", 2)[-1]
                if text not in seen:
                    seen.add(text)
                    problems.append(Problem("unknown-keyword", Severity.WARNING,
                                            f"Asterisk logged: {text}", "remove that keyword"))
    return problems
