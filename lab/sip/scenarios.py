"""SIPp XML scenarios for the lab's phones and callers, generated from what a test asks for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from lab.sip.dtmf import DtmfClock, write_pcap
from lab.sip.pcap import HELLO_PCAP
from lab.sip.speech import write_speech_pcap

# What Asterisk answers a caller whose call it ends unanswered (a Dial that rang out: 480).
RING_OUT_CODES = ("404", "480", "486", "487", "503", "603")


@dataclass(frozen=True)
class Dtmf:
    """Keys sent (RFC 2833) `at` seconds after the far end answers."""

    at: float
    keys: str


# ---- what a phone does with the one call it takes ----


@dataclass(frozen=True)
class Answer:
    """Ring `after` s, answer, talk `talk` s (its hello pcap), then hang up; or, if
    `wait_for_bye`, stay on the line until the other side hangs up. A caller whose number
    starts with a match of `ignore` (a POSIX regular expression) is never answered: the
    phone rings until the call is cancelled, so one phone can serve some callers and let
    others give up."""

    after: float = 2.0
    talk: float = 5.0
    wait_for_bye: bool = False
    keys: Sequence[Dtmf] = ()
    ignore: str = ""


@dataclass(frozen=True)
class Busy:
    """Reply 486 Busy Here at once."""


@dataclass(frozen=True)
class NoAnswer:
    """Ring until the call is cancelled (reply 487, with the INVITE's CSeq)."""


@dataclass(frozen=True)
class Forward:
    """Ring `after` s, then 302 to another extension."""

    to: str
    after: float = 0.0


@dataclass(frozen=True)
class BlindTransfer:
    """Answer after `after` s, talk `talk` s, then REFER the caller to `to` (blind transfer)."""

    to: str
    after: float = 2.0
    talk: float = 2.0


@dataclass(frozen=True)
class AttendedTransfer:
    """Answer after `after` s, talk `talk` s, consult `to` on a second line (a second SIPp
    started by this one, with the first dialog's ids), which REFERs with Replaces once the
    officer has answered and they have talked `consult` s."""

    to: str
    after: float = 2.0
    talk: float = 2.0
    consult: float = 2.0


Behaviour = Answer | Busy | NoAnswer | Forward | BlindTransfer | AttendedTransfer


@dataclass(frozen=True)
class Place:
    """What the lab needs to write a scenario: our address, the PBX's, and who we are."""

    me: str  # the From/Contact user: an extension, or `trunk` for callers
    sip_port: int
    pbx_port: int
    recorder_port: int = 0
    ip: str = "127.0.0.1"
    work: Path | None = None  # where this scenario's DTMF pcaps are written


class _Keys:
    """The DTMF pcaps of one scenario: one file per run of keys, on one growing RTP clock."""

    def __init__(self, place: Place) -> None:
        self.place = place
        self.clock = DtmfClock()
        self.count = 0

    def actions(self, keys: str) -> tuple[str, float]:
        """The play action for `keys` and the seconds it plays."""
        if self.place.work is None:
            raise ValueError("a scenario that sends DTMF needs Place.work")
        self.count += 1
        pcap = self.place.work / f"dtmf-{self.count}.pcap"
        seconds = write_pcap(pcap, keys, self.clock)
        return f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n', seconds

    def speech(self, seconds: float) -> str:
        """The play action for `seconds` of speech (it plays on while the call waits)."""
        if self.place.work is None:
            raise ValueError("a scenario that speaks needs Place.work")
        pcap = self.place.work / "speech.pcap"
        write_speech_pcap(pcap, seconds)
        return f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'


@dataclass(frozen=True)
class CallerSpec:
    """A caller over the trunk: who (P-Asserted-Identity), what they dial, how long they stay
    once the PBX answers (then they hang up), keys they press, and from when they talk (so a
    message they leave has sound in it)."""

    number: str
    name: str = "Lab Caller"
    dialled: str = "1000"
    patience: float = 60.0
    keys: Sequence[Dtmf] = field(default_factory=tuple)
    may_ring_out: bool = False  # the PBX may end the call unanswered (4xx-6xx): ACK, done
    talks_from: float | None = None


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _scenario(name: str, body: str) -> str:
    return (f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
            f'<scenario name="{escape(name, {chr(34): "&quot;"})}">\n{body}</scenario>\n')


def _sdp(port: str, formats: str) -> str:
    rtpmaps = {"0": "a=rtpmap:0 PCMU/8000", "8": "a=rtpmap:8 PCMA/8000",
               "101": "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15"}
    maps = "\n".join(rtpmaps[f] for f in formats.split())
    return ("v=0\no=lab 53655765 2353687637 IN IP4 [local_ip]\ns=-\nc=IN IP4 [media_ip]\n"
            f"t=0 0\nm=audio {port} RTP/AVP {formats}\n{maps}\n")


def _timeline(keys: Sequence[Dtmf], total: float, prefix: str, end_label: str,
              bye_label: str, place: Place | None = None,
              speech_from: float | None = None) -> str:
    """Wait `total` s in an established call, pressing `keys` on time (and from
    `speech_from` s on, talking until the end); a BYE from the PBX at any point jumps to
    `bye_label`, the end of the wait to `end_label`. Every wait is a `recv BYE` with a
    timeout, never a `pause`: a BYE during a pause aborts the call."""
    out, now, waits = [], 0.0, 0
    played = _Keys(place) if place is not None else None
    if speech_from is not None and any(d.at >= speech_from for d in keys):
        # Two RTP streams at once (other SSRCs and numbers) would garble the keys.
        raise ValueError("keys must be pressed before the speech starts")

    def wait_until(when: float, then: str) -> None:
        nonlocal now, waits
        waits += 1
        out.append(f'  <recv request="BYE" timeout="{_ms(max(when - now, 0.001))}" '
                   f'ontimeout="{then}" next="{bye_label}"/>\n')
        now = max(when, now)

    for i, dtmf in enumerate(sorted(keys, key=lambda d: d.at)):
        wait_until(dtmf.at, f"{prefix}key{i}")
        out.append(f'  <label id="{prefix}key{i}"/>\n')
        if played is None:
            raise ValueError("keys to press need the scenario's Place")
        action, seconds = played.actions(dtmf.keys)
        out.append(action)
        wait_until(now + seconds, f"{prefix}played{i}")  # play_pcap_audio returns at once
        out.append(f'  <label id="{prefix}played{i}"/>\n')
    if speech_from is not None and speech_from < total:
        if played is None:
            raise ValueError("speech needs the scenario's Place")
        wait_until(speech_from, f"{prefix}speak")
        out.append(f'  <label id="{prefix}speak"/>\n' + played.speech(total - speech_from))
    wait_until(max(total, now + 0.001), end_label)
    return "".join(out)


def _uas_head(place: Place, *, answers: bool, ignore: str = "") -> str:
    """Take the INVITE, remembering what a later 487, BYE or REFER needs (and whether the
    caller's number matches `ignore`: `_ignored_caller_test`), and ring."""
    # Only a phone that answers sends requests of its own (to the PBX's Contact): SIPp
    # refuses a scenario that assigns a variable it never uses ("referenced 1 times").
    contact = ('\n      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" '
               'assign_to="pbx_contact"/>') if answers else ""
    if ignore:
        if any(c in ignore for c in '<>&"'):
            raise ValueError(f"not usable in a SIPp regexp attribute: {ignore!r}")
        contact += (f'\n      <ereg regexp="sip:{ignore}" search_in="hdr" header="From:" '
                    'assign_to="ignored_caller"/>')
    return f"""\
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="invite_cseq"/>{contact}
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{place.me}@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
"""


def _uas_answer(place: Place, *, attended: bool = False, hello: bool = True) -> str:
    """200 OK with SDP, the ACK (whose From/To our own requests swap), then say hello."""
    sdp = _sdp("[media_port]", "8 0 101")
    # The consult line's Replaces needs the PBX's tag alone (group 1; the whole match is
    # logged only so that SIPp counts it as used).
    tag = ('\n      <ereg regexp="tag=([^;> ]*)" search_in="hdr" header="From:" '
           'assign_to="pbx_tag_match,pbx_tag"/>\n      <log message="[$pbx_tag_match]"/>'
           ) if attended else ""
    # A phone that presses keys says nothing: its hello (another SSRC, other sequence numbers)
    # would interleave with the DTMF packets.
    hello_action = (f'  <nop><action><exec play_pcap_audio="{HELLO_PCAP}"/></action></nop>\n'
                    if hello else "")
    return f"""\
  <label id="answer"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{place.me}@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

{sdp}    ]]>
  </send>
  <recv request="ACK" crlf="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="pbx_side"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="my_side"/>{tag}
    </action>
  </recv>
{hello_action}"""


def _in_dialog(method: str, cseq: int, place: Place, extra: str = "") -> str:
    """A request of ours inside the dialog the PBX opened (we are its UAS)."""
    return f"""\
  <send retrans="500">
    <![CDATA[
      {method} [$pbx_contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$my_side]
      To: [$pbx_side]
      [last_Call-ID:]
      CSeq: {cseq} {method}
      Contact: <sip:{place.me}@[local_ip]:[local_port]>
      Max-Forwards: 70
{extra}      Content-Length: 0
    ]]>
  </send>
"""


def _reply_bye(label: str, then: str) -> str:
    return f"""\
  <label id="{label}"/>
  <send next="{then}">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""


def _hang_up_as_uas(place: Place, label: str, cseq: int, then: str) -> str:
    return (f'  <label id="{label}"/>\n' + _in_dialog("BYE", cseq, place)
            + f'  <recv response="200" next="{then}"/>\n')


def _uas_cancelled() -> str:
    """CANCEL while ringing: 200 for the CANCEL, 487 for the INVITE (its own CSeq), ACK."""
    return """\
  <label id="cancelled"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [$invite_cseq] INVITE
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK" next="done"/>
"""


def _final_reply(code: str, place: Place, extra: str = "") -> str:
    return f"""\
  <send>
    <![CDATA[
      SIP/2.0 {code}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
{extra}      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK" next="done"/>
"""


def _ignored_caller_test(ignore: str) -> str:
    """Jump to `ignored` when the INVITE's From user (the caller's number) matched `ignore`
    (an unmatched `ereg` leaves its variable unset, and `test` needs it set)."""
    return '  <nop test="ignored_caller" next="ignored"/>\n' if ignore else ""


def _ignored_caller_rings(ignore: str) -> str:
    """An ignored caller's call rings until it is cancelled (falls through to `cancelled`)."""
    return '  <label id="ignored"/>\n  <recv request="CANCEL"/>\n' if ignore else ""


def phone(place: Place, behaviour: Behaviour, *, consult_command: str = "") -> str:
    """The scenario of a phone (UAS) for one call. `consult_command` (attended transfer) must
    hold no XML special characters: SIPp hands attribute text to sh undecoded."""
    if any(c in consult_command for c in '<>&"'):
        raise ValueError(f"not usable in a SIPp exec command: {consult_command!r}")
    name = f"phone {place.me}: {behaviour}"
    head = _uas_head(place, answers=isinstance(
        behaviour, Answer | BlindTransfer | AttendedTransfer),
        ignore=behaviour.ignore if isinstance(behaviour, Answer) else "")
    # Dead ends some behaviours never reach still need their variables used twice, and
    # SIPp refuses a scenario whose ereg'd variable is used once ("referenced 1 times").
    if isinstance(behaviour, Busy):
        body = (head + _final_reply("486 Busy Here", place) + _uas_cancelled())
    elif isinstance(behaviour, NoAnswer):
        body = head + '  <recv request="CANCEL" next="cancelled"/>\n' + _uas_cancelled()
    elif isinstance(behaviour, Forward):
        contact = f"      Contact: <sip:{behaviour.to}@{place.ip}:{place.pbx_port}>\n"
        body = (head + f'  <recv request="CANCEL" timeout="{_ms(behaviour.after)}" '
                f'ontimeout="forward" next="cancelled"/>\n  <label id="forward"/>\n'
                + _final_reply("302 Moved Temporarily", place, contact) + _uas_cancelled())
    elif isinstance(behaviour, Answer):
        body = (head + _ignored_caller_test(behaviour.ignore)
                + f'  <recv request="CANCEL" timeout="{_ms(behaviour.after)}" '
                f'ontimeout="answer" next="cancelled"/>\n'
                + _uas_answer(place, hello=not behaviour.keys))
        talk = 3600.0 if behaviour.wait_for_bye else behaviour.talk
        body += _timeline(behaviour.keys, talk, "", "hangup", "bye", place)
        body += (_hang_up_as_uas(place, "hangup", 1, "done") + _reply_bye("bye", "done")
                 + _ignored_caller_rings(behaviour.ignore) + _uas_cancelled())
    elif isinstance(behaviour, BlindTransfer):
        refer = (f"      Refer-To: <sip:{behaviour.to}@{place.ip}:{place.pbx_port}>\n"
                 f"      Referred-By: <sip:{place.me}@{place.ip}>\n")
        body = (head + f'  <recv request="CANCEL" timeout="{_ms(behaviour.after)}" '
                f'ontimeout="answer" next="cancelled"/>\n' + _uas_answer(place)
                + _timeline((), behaviour.talk, "", "refer", "bye")
                + '  <label id="refer"/>\n' + _in_dialog("REFER", 1, place, refer)
                + '  <recv response="202"/>\n'
                # The PBX hangs up on us once it has taken the caller (NOTIFYs: -aa).
                + '  <recv request="BYE" timeout="10000" ontimeout="hangup" next="bye"/>\n'
                + _hang_up_as_uas(place, "hangup", 2, "done") + _reply_bye("bye", "done")
                + _uas_cancelled())
    else:
        # Attended: the consult line is a second SIPp, started with this dialog's ids; it
        # sends the REFER with Replaces and the PBX then hangs up both our lines.
        body = (head + f'  <recv request="CANCEL" timeout="{_ms(behaviour.after)}" '
                f'ontimeout="answer" next="cancelled"/>\n'
                + _uas_answer(place, attended=True)
                + _timeline((), behaviour.talk, "", "consult", "bye")
                + '  <label id="consult"/>\n'
                + f'  <nop><action><exec command="{consult_command}"/></action></nop>\n'
                + '  <recv request="BYE" timeout="60000" ontimeout="hangup" next="bye"/>\n'
                + _hang_up_as_uas(place, "hangup", 1, "done") + _reply_bye("bye", "done")
                + _uas_cancelled())
    return _scenario(name, body + '  <label id="done"/>\n')


def _uac_invite(place: Place, dialled: str, extra: str, sdp: str, *,
                may_ring_out: bool = False) -> str:
    """INVITE, then the 200 and our ACK; with `may_ring_out`, a final 4xx-6xx (the PBX gave
    up ringing) jumps to `rang_out` instead (see `_uac_rang_out`)."""
    refusals = "".join(f'  <recv response="{code}" optional="true" next="rang_out"/>\n'
                       for code in RING_OUT_CODES) if may_ring_out else ""
    return f"""\
  <send retrans="500">
    <![CDATA[
      INVITE sip:{dialled}@{place.ip}:{place.pbx_port} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{place.me}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{dialled}@{place.ip}:{place.pbx_port}>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{place.me}@[local_ip]:[local_port]>
      Max-Forwards: 70
{extra}      Content-Type: application/sdp
      Content-Length: [len]

{sdp}    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
{refusals}  <recv response="200" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="pbx_to"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{place.me}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [$pbx_to]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{place.me}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""


def _uac_rang_out(place: Place, dialled: str) -> str:
    """The ACK of a final error response: same transaction, so the response's own Via."""
    return f"""\
  <label id="rang_out"/>
  <send next="done">
    <![CDATA[
      ACK sip:{dialled}@{place.ip}:{place.pbx_port} SIP/2.0
      [last_Via:]
      From: <sip:{place.me}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""


def _uac_hangup_and_bye(place: Place, cseq: int = 2) -> str:
    """Our BYE on timeout (label `hangup`), or the 200 for the PBX's BYE (label `bye`)."""
    return f"""\
  <label id="hangup"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{place.me}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [$pbx_to]
      Call-ID: [call_id]
      CSeq: {cseq} BYE
      Contact: <sip:{place.me}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" next="done"/>
""" + _reply_bye("bye", "done")


def caller(place: Place, spec: CallerSpec) -> str:
    """A customer over the trunk: caller ID in P-Asserted-Identity, RTP to the recorder."""
    pai = f'      P-Asserted-Identity: "{spec.name}" <sip:{spec.number}@{place.ip}>\n'
    # No recorder: the audio goes to SIPp's own media port, which takes it and says nothing.
    sdp = _sdp(str(place.recorder_port) if place.recorder_port else "[media_port]", "0 8 101")
    body = (_uac_invite(place, spec.dialled, pai, sdp, may_ring_out=spec.may_ring_out)
            + _timeline(spec.keys, spec.patience, "", "hangup", "bye", place,
                        speech_from=spec.talks_from)
            + _uac_hangup_and_bye(place)
            + (_uac_rang_out(place, spec.dialled) if spec.may_ring_out else ""))
    return _scenario(f"caller {spec.number} dials {spec.dialled}", body
                     + '  <label id="done"/>\n')


def internal_call(place: Place, dialled: str, talk: float, keys: Sequence[Dtmf] = ()) -> str:
    """A staff phone (`place.me`) calls an extension and hangs up after `talk` s."""
    body = (_uac_invite(place, dialled, "", _sdp("[media_port]", "0 8 101"))
            + '  <nop><action><exec play_pcap_audio="' + str(HELLO_PCAP) + '"/></action></nop>\n'
            + _timeline(keys, talk, "", "hangup", "bye", place) + _uac_hangup_and_bye(place))
    return _scenario(f"{place.me} calls {dialled}", body + '  <label id="done"/>\n')


def consult_call(place: Place, dialled: str, consult: float) -> str:
    """The second line of an attended transfer: call `dialled`, talk, then REFER the first
    call (ids from -set: a_callid, a_totag = the PBX's tag, a_fromtag = ours) onto it."""
    replaces = "[$a_callid]%3Bto-tag%3D[$a_pbxtag]%3Bfrom-tag%3D[$a_mytag]"
    # -set only fills variables declared <Global>; and SIPp counts a variable used once as
    # unused ("referenced 1 times"), so they are logged too.
    ids = ('  <Global variables="a_callid,a_pbxtag,a_mytag"/>\n'
           '  <nop><action><log message="first call [$a_callid] [$a_pbxtag] [$a_mytag]"/>'
           '</action></nop>\n')
    body = (ids + _uac_invite(place, dialled, "", _sdp("[media_port]", "0 8 101"))
            + _timeline((), consult, "", "refer", "bye")
            + f"""\
  <label id="refer"/>
  <send retrans="500">
    <![CDATA[
      REFER [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{place.me}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [$pbx_to]
      Call-ID: [call_id]
      CSeq: 2 REFER
      Contact: <sip:{place.me}@[local_ip]:[local_port]>
      Refer-To: <sip:{dialled}@{place.ip}:{place.pbx_port}?Replaces={replaces}>
      Referred-By: <sip:{place.me}@{place.ip}>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="202"/>
  <recv request="BYE" timeout="10000" ontimeout="hangup" next="bye"/>
"""
            + _uac_hangup_and_bye(place, cseq=3))
    return _scenario(f"{place.me} consults {dialled}", body + '  <label id="done"/>\n')
