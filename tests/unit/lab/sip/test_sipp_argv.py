"""The SIPp command lines of the lab's phones and callers."""

from __future__ import annotations

from pathlib import Path

from lab.config import LabPorts
from lab.sip import phonebook
from lab.sip.phones import SIPP_TIMEOUT_SECONDS, sipp_argv

PORTS = phonebook.phone_ports(LabPorts(0), "101")


def test_a_run_for_a_number_of_calls_fails_past_its_time_limit(tmp_path: Path) -> None:
    argv = sipp_argv(tmp_path, tmp_path / "scenario.xml", PORTS, ["-m", "1"])
    assert argv[argv.index("-timeout") + 1] == f"{SIPP_TIMEOUT_SECONDS:g}"
    assert "-timeout_error" in argv


def test_a_phone_serving_until_stopped_has_no_time_limit(tmp_path: Path) -> None:
    # SIPp's -timeout is for the whole run: the demo's and the soak's receptionists, who
    # serve every call until stopped, all exited after 900 s (bench/bench_soak.py).
    argv = sipp_argv(tmp_path, tmp_path / "scenario.xml", PORTS, [], serves_until_stopped=True)
    assert "-timeout" not in argv
    assert "-timeout_error" not in argv
