"""Place calls into the lab's PBX through AMI `Originate` of Local channels (no phones needed)."""

from __future__ import annotations

from monitor.ami import AmiClient, AmiError


async def set_phone(ami: AmiClient, phone: str, *, answer_after: float | None = None,
                    talk_for: float | None = None) -> None:
    """Make a simulated phone (e.g. receptionist `r1`) answer after, and talk for, some seconds.

    `answer_after=999` makes it never answer within any charter ring time.
    """
    if answer_after is not None:
        await _setvar(ami, f"LAB_DELAY_{phone}", f"{answer_after:g}")
    if talk_for is not None:
        await _setvar(ami, f"LAB_TALK_{phone}", f"{talk_for:g}")


async def _setvar(ami: AmiClient, name: str, value: str) -> None:
    reply = await ami.action("Setvar", Variable=name, Value=value)
    if not reply.succeeded:
        raise AmiError(f"Setvar {name}: {reply.get('message', '')}")


async def place_inbound_call(
    ami: AmiClient,
    *,
    dialled: str = "1000",
    caller_id: str = "0312345678",
    caller_name: str = "Lab Caller",
    patience: float = 600.0,
    context: str = "from-pstn",
    answer_after: float | None = None,
) -> None:
    """A caller dials `dialled` on the agency's inbound line and hangs up after `patience` s.

    The Local channel's `;2` half runs the agency's dialplan; the `;1` half is the caller,
    which waits in [lab-caller] once the PBX has answered. `answer_after` makes whichever
    phone rings for this call answer after that many seconds (inherited `LAB_DELAY_*`), so
    concurrent calls get known waits whatever member the queue picks.
    """
    variables = [f"PATIENCE={patience:g}"]
    if answer_after is not None:
        variables += [f"__LAB_DELAY_{p}={answer_after:g}" for p in ("r1", "r2", "r3")]
    reply = await ami.action(
        "Originate",
        Channel=f"Local/{dialled}@{context}",
        Context="lab-caller",
        Exten="wait",
        Priority="1",
        CallerID=f'"{caller_name}" <{caller_id}>',
        Variable="\n".join(variables),
        Timeout="60000",
        Async="true",
    )
    if not reply.succeeded:
        raise AmiError(f"Originate to {dialled}@{context} refused: {reply.get('message', '')}")
