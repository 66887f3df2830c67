"""The front-desk queue's members as SIP phones (PJSIP/101 ...) instead of the lab's Local ones.

The choice is per test module (or per block of one): the instance's
`local/frontdesk-members.conf` (Local channels into [lab-phones]) is rewritten with PJSIP
members and app_queue reloaded; `restore_front_desk` puts the lab's own file back. The file is
included at the end of queues.conf's [frontdesk], so a `timeout` written there overrides the
site's. The strategy cannot be: app_queue keeps a static queue's strategy across reloads
(measured: a later `strategy =` is ignored, even through unload and load), so the strategy
line of the instance's copy of queues.conf is rewritten and app_queue unloaded and loaded,
which also makes the queue start from nothing, as after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from asterisk_conf import CONF_DIR
from lab.pbx import LAB_LOCAL, AsteriskPbx
from lab.processes import LabStartError, wait_until

MEMBERS_FILE = "frontdesk-members.conf"
STRATEGIES = ("ringall", "rrmemory", "leastrecent", "fewestcalls", "random", "wrandom")


def _members_path(pbx: AsteriskPbx) -> str:
    return f"{pbx.inst}/etc/local/{MEMBERS_FILE}"


def use_sip_front_desk(pbx: AsteriskPbx, members: Sequence[str], *, strategy: str = "ringall",
                       ring_timeout: int = 15) -> None:
    """Ring these receptionists' SIP phones, with this strategy and ring time per member."""
    if strategy not in STRATEGIES:  # linear cannot be switched to on a reload
        raise ValueError(f"strategy {strategy!r}: one of {', '.join(STRATEGIES)}")
    lines = [f"; written by lab.sip.frontdesk: SIP phones {', '.join(members)}",
             f"timeout = {ring_timeout}"]
    lines += [f"member => PJSIP/{ext},0,Reception {ext},PJSIP/{ext}" for ext in members]
    pbx.host_path(_members_path(pbx)).write_text("\n".join(lines) + "\n")
    _reload(pbx, strategy, expect=[f"PJSIP/{ext}" for ext in members])


def restore_front_desk(pbx: AsteriskPbx) -> None:
    """Back to the lab's Local-channel receptionists (the template has no substitutions).
    Calls still up are hung up first: a SIPp stopped mid-call sends no BYE, and app_queue
    cannot be unloaded while a caller or member is in one of its calls."""
    _hang_up_calls_left(pbx)
    pbx.host_path(_members_path(pbx)).write_text((LAB_LOCAL / MEMBERS_FILE).read_text())
    _reload(pbx, None, expect=["Local/r1@lab-phones/n"])


def _hang_up_calls_left(pbx: AsteriskPbx, timeout: float = 15.0) -> None:
    def idle() -> bool:
        if pbx.cli("core show channels count").startswith("0 active channels"):
            return True
        pbx.cli("channel request hangup all")
        return False

    wait_until(idle, timeout, "the PBX to hang up the calls the phones left")


def _frontdesk_with(text: str, strategy: str) -> str:
    head, found, rest = text.partition("[frontdesk]")
    rest = re.sub(r"(?m)^strategy\s*=.*$", f"strategy = {strategy}", rest, count=1)
    return head + found + rest


def _reload(pbx: AsteriskPbx, strategy: str | None, expect: Sequence[str]) -> None:
    """Reload app_queue; with a strategy other than the running one, unload and load it."""
    queues = pbx.host_path(f"{pbx.inst}/etc/queues.conf")
    site = (CONF_DIR / "queues.conf").read_text()
    wanted = site if strategy is None else _frontdesk_with(site, strategy)
    queues.write_text(wanted)
    # Always a fresh app_queue, not a reload: a new strategy takes, and the queue's memory
    # (rrmemory's position, the member stats) starts over, so which member rings first is the
    # same every time (measured: PJSIP/101 before PJSIP/102).
    pbx.cli("module unload app_queue.so")
    pbx.cli("module load app_queue.so")
    shown = pbx.cli("queue show frontdesk")
    if strategy is not None and f"'{strategy}' strategy" not in shown:
        raise LabStartError(f"front desk reload: not {strategy}: {shown}")
    missing = [member for member in expect if member not in shown]
    if missing:
        raise LabStartError(f"front desk reload: {', '.join(missing)} not in the queue: {shown}")
