"""What lab callers heard, held against what the PBX did: the checks the audio tests share.

A caller's RTP (lab.sip.heard) is matched against the lab's generated prompts; the scripts'
AGI commands (AMI `AGIExecStart`, Asterisk's clock) and the phones' INVITEs (SIPp's message
trace, the host's clock) say when each prompt was played and when a phone rang. Both clocks
are the host's: the lab's Asterisk runs on it in a chroot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.sip.heard import SAMPLE_RATE, HeardAudio, PromptHearing
from lab.sip.message_trace import ReceivedInvite
from monitor.ami import AmiMessage
from tests.support.callflow_harness import ami_time, is_exec

# An AGIExecStart's timestamp is when Asterisk wrote the event out, not when the file's first
# frame left: that frame reached the caller up to 64 ms before it (measured with other labs
# loading the 2 cores: -64, -21, -3.7 ms).
AMI_LAG = 0.1
# A prompt the script started is heard within this long after its AGIExecStart.
HEARD_WITHIN = 0.3
# The opening that tells a status message from the rest: position_is's first 0.5 s
# correlates 0.66 at most with any other Malay prompt (its first 0.2 s: 1.0 with `waited`).
OPENING = 0.5


def prompt_of(command: str) -> str:
    """`<lang>/<key>` of an AGI `STREAM FILE "<prompts>/<lang>/<key>" ...` command."""
    found = re.search(r'STREAM FILE "[^"]*/((?:ms|en)/[^"/]+)"', command)
    assert found, command
    return found.group(1)


@dataclass
class CallerAudio:
    """Each caller's received audio and each phone's INVITEs, once the calls are over, with
    the AMI events of the run (`events`: the AmiLog's list, read as it is)."""

    events: list[AmiMessage]
    hearing: PromptHearing
    heard: dict[str, HeardAudio] = field(default_factory=dict)  # by caller number (or name)
    rang: dict[str, list[ReceivedInvite]] = field(default_factory=dict)  # by phone

    def heard_at(self, caller: str, prompt: str,
                 between: tuple[float, float] | None = None) -> list[float]:
        """When `caller` heard `prompt` (`<lang>/<key>`) start, on the host's clock."""
        return self.hearing.times(self.heard[caller], prompt, between)

    def rang_at(self, phone: str, caller: str) -> float:
        """When `phone` received the INVITE of `caller`'s call: the moment it started
        ringing."""
        invites = [i.at for i in self.rang[phone] if i.caller == caller]
        assert len(invites) == 1, f"{phone}: INVITEs from {caller} at {invites}"
        return invites[0]

    def commands(self, caller: str, needle: str = "") -> list[AmiMessage]:
        """The AGI commands the scripts ran on `caller`'s channel (containing `needle`)."""
        return [e for e in self.events if is_exec(e, caller, needle)]

    def heard_as_played(self, caller: str, *, until: float = math.inf) -> list[float]:
        """Every prompt the flow played whole to `caller` (before `until`) was heard: found in
        the caller's RTP within HEARD_WITHIN of the script's STREAM FILE. Returns those
        delays."""
        agi = self.commands(caller)
        lags = []
        for command in agi:
            started = ami_time(command)
            if "STREAM FILE" not in command["command"] or started >= until:
                continue
            prompt = prompt_of(command["command"])
            following = min((ami_time(e) for e in agi if ami_time(e) > started),
                            default=math.inf)
            if following < started + self.hearing.seconds(prompt) - 0.1:
                continue  # cut short (a key, or the officer came free): heard only in part
            heard = self.heard_at(caller, prompt,
                                  between=(started - AMI_LAG, started + HEARD_WITHIN))
            assert len(heard) == 1, f"{caller} did not hear {prompt} (played at {started:.3f})"
            lags.append(heard[0] - started)
        return lags

    def openings(self, caller: str, prompt: str, after: float) -> list[float]:
        """When `prompt` began in `caller`'s audio after `after`, found by its first OPENING s
        (a prompt cut short is found too)."""
        opening = self.hearing.prompt(prompt)[:round(OPENING * SAMPLE_RATE)]
        return self.heard[caller].between(after, math.inf).find(opening)

    def message_starts(self, caller: str, first_prompt: str,
                       until: float) -> list[tuple[float, float]]:
        """Each status message the script began for `caller` before `until` (its first
        prompt `first_prompt`, `<lang>/<key>`), as (when that prompt began in the caller's
        audio, seconds of it played): found within HEARD_WITHIN of the script's STREAM FILE
        by as much of its opening as played before the script's next command (a message cut
        short when the officer came free began all the same)."""
        agi = [ami_time(e) for e in self.commands(caller)]
        prompt = self.hearing.prompt(first_prompt)
        starts = []
        for command in self.commands(caller, f"/{first_prompt}\""):
            began = ami_time(command)
            if began >= until:
                continue
            played = min([t for t in agi if t > began] + [until]) - began
            if played < 0.1:
                continue  # cut at once: the caller heard next to nothing, no message
            opening = prompt[:round(min(OPENING, played - 0.02) * SAMPLE_RATE)]
            heard = self.heard[caller].between(began - AMI_LAG, began + HEARD_WITHIN,
                                               then=len(opening))
            found = heard.find(opening)
            assert len(found) == 1, f"{caller}: message at {began:.3f} ({played:.3f} s) not heard"
            starts.append((found[0], played))
        return starts

    def announced_before_ringing(self, caller: str, phone: str, announcement: Sequence[str],
                                 language: str) -> float:
        """Every prompt of `announcement` (keys, in order) was heard by `caller` in
        `language`, and had ended when `phone` received the INVITE for them (T-e: the
        caller hears who before the officer's phone rings). Returns that INVITE's time."""
        rang = self.rang_at(phone, caller)
        ends, heard_from = [], 0.0
        for key in announcement:
            prompt = f"{language}/{key}"
            later = [t for t in self.heard_at(caller, prompt) if t > heard_from]
            assert later, f"{caller}: {prompt} not heard after {heard_from}"
            heard_from = later[0]
            ends.append(heard_from + self.hearing.seconds(prompt))
        print(f"{caller} ({language}): announcement over {rang - ends[-1]:.3f} s before "
              f"{phone}'s phone got the INVITE")
        assert all(end <= rang for end in ends), (caller, ends, rang)
        return rang

    def heard_after(self, caller: str, after: float) -> dict[str, list[float]]:
        """Each prompt the scripts played to `caller` whose opening was heard after `after`."""
        played = {prompt_of(e["command"]) for e in self.commands(caller, "STREAM FILE")}
        return {p: t for p in played if (t := self.openings(caller, p, after))}
