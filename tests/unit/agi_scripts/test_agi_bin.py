"""Classic AGI over a pipe: the environment is read, commands go out, an unknown extension is
sent to the front desk. (The protocol itself is tested against Asterisk in tests/integration/.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_classic_agi_speaks_the_protocol_on_stdin_stdout(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agi_scripts.agi_bin", "officer_call"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={"CALLSLA_OUTBOX": str(tmp_path / "outbox"), "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[3])
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(b"agi_request: callsla-agi\nagi_channel: Local/x\nagi_arg_1: 9999\n\n")
    proc.stdin.flush()
    commands = []
    for _ in range(5):
        line = proc.stdout.readline().decode().strip()
        commands.append(line)
        proc.stdin.write(b"200 result=1 (ms)\n" if line.startswith("GET") else
                         b"200 result=0\n")
        proc.stdin.flush()
    proc.stdin.close()
    proc.wait(10)
    assert commands[0] == 'SET VARIABLE CALLSLA_NEXT "returned"'
    assert commands[1] == 'GET FULL VARIABLE "${CALLSLA_PROMPTS}"'
    assert commands[3].startswith('STREAM FILE "ms/ms/unknown_extension"')
    assert commands[4] == 'SET VARIABLE CALLSLA_RETURN_REASON "unknown_extension"'
