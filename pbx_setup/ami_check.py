"""The part of `callsla pbx check` that asks the running Asterisk over AMI: the monitor's user
logs in, and the events it gets carry the PBX's own time (timestampevents, as loaded)."""

from __future__ import annotations

import asyncio

from monitor.ami import AmiClient, AmiError
from monitor.core.settings import Endpoint
from pbx_setup.check import Problem, Severity


async def ami_problems(endpoint: Endpoint, *, wait_seconds: float = 3.0) -> list[Problem]:
    client = AmiClient.from_endpoint(endpoint)
    try:
        await client.connect()
    except AmiError as exc:
        return [Problem("ami-login", Severity.ERROR, str(exc),
                        "CALLSLA_AMI_URL's user and secret as in local/manager-users.conf; "
                        "`manager reload` after a change")]
    try:
        async with asyncio.timeout(wait_seconds):
            async for event in client.events():
                if event.event == "FullyBooted":
                    continue  # written by the login itself, never timestamped
                if event.get("timestamp"):
                    return []
                return [Problem("timestampevents", Severity.ERROR,
                                f"the running Asterisk sends {event.event} without Timestamp",
                                "manager.conf [general]: timestampevents = yes, then "
                                "`manager reload`")]
    except TimeoutError:  # an idle PBX may send nothing: the file check still applies
        return [Problem("ami-events", Severity.WARNING,
                        f"no AMI event within {wait_seconds:.0f} s of logging in: the "
                        "event time could not be checked live",
                        "run the check while calls are up, or give the monitor's user "
                        "read = call,agent,user,dialplan,cdr,reporting")]
    finally:
        await client.close()
    return []
