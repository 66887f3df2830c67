"""The real PBX lab, brought up once per test session and down at the end.

Every test in tests/integration/ is marked `lab`. When the lab cannot start, those tests fail
with the reason in one line; they never skip silently.

Under pytest-xdist (`make test` runs two workers) each worker is a session with a lab of its
own: worker N takes CALLSLA_LAB_PORT_OFFSET + 50 N (or the Nth of CALLSLA_LAB_WORKER_OFFSETS,
e.g. `400,500` on a machine where other people's labs sit in between) and the folder
`<CALLSLA_LAB_DIR>/gwN` (`.lab/gw0`, `.lab/gw1`), so the workers' labs share no port, folder,
database or pid file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dashboards import RULE_FILES
from lab import Lab
from lab.config import LabConfig
from lab.processes import LabStartError, port_open, wait_until
from monitor.ami import AmiClient

# Labs this far apart in offset share no port: each takes 50 offset steps of SIP phones' and
# RTP ports (lab/config.py, lab/sip/phonebook.py).
LAB_OFFSET_STEP = 50

_lab_error: str | None = None
_session_lab: Lab | None = None  # once the `lab` fixture has started it


def _xdist_worker() -> str | None:
    return os.environ.get("PYTEST_XDIST_WORKER")


def pytest_configure(config: pytest.Config) -> None:
    """In an xdist worker, move this session's lab to the worker's own offset and folder
    (through the environment: the lab, the monitors and the subprocesses all read it)."""
    worker = _xdist_worker()
    if worker is None:
        return
    base = LabConfig.from_env()
    index = int(worker.removeprefix("gw"))
    offset = base.ports.offset + LAB_OFFSET_STEP * index
    if chosen := os.environ.get("CALLSLA_LAB_WORKER_OFFSETS"):
        offsets = [int(text) for text in chosen.split(",")]
        if index >= len(offsets):
            raise pytest.UsageError(f"CALLSLA_LAB_WORKER_OFFSETS={chosen} has no offset for "
                                    f"worker {worker}: give one per worker")
        offset = offsets[index]
    os.environ["CALLSLA_LAB_PORT_OFFSET"] = str(offset)
    os.environ["CALLSLA_LAB_DIR"] = str(base.lab_dir / worker)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    global _lab_error, _session_lab
    if _lab_error is not None:
        pytest.fail(f"lab unavailable: {_lab_error}", pytrace=False)
    the_lab = Lab(rule_files=list(RULE_FILES))
    try:
        the_lab.start()
    except LabStartError as exc:
        _lab_error = str(exc)
        pytest.fail(f"lab unavailable: {exc}", pytrace=False)
    _session_lab = the_lab
    yield the_lab
    the_lab.stop()


@pytest.fixture(scope="module")
def own_lab_offset(request: pytest.FixtureRequest) -> Iterator[int]:
    """The port offset for a module that starts a whole lab of its own (the demo's tests).

    Run alone, this session's offset + 50: the session's lab stays up beside it. In an xdist
    worker, offset + 50 is the next worker's lab, so the module takes the worker's own offset
    and this worker's lab, if it runs, stops for the module and starts again after it."""
    global _lab_error
    offset = LabConfig.from_env().ports.offset
    if _xdist_worker() is None:
        yield offset + LAB_OFFSET_STEP
        return
    paused = _session_lab
    if paused is not None:
        paused.stop()
    yield offset
    if paused is not None:
        try:
            paused.start()
        except LabStartError as exc:
            _lab_error = f"not restarted after {request.module.__name__}: {exc}"
            pytest.fail(f"lab unavailable: {_lab_error}", pytrace=False)


@pytest.fixture(scope="module")  # module: later tests run their own monitors on this port
def monitor_process(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`callsla monitor` against the lab, serving the port Prometheus scrapes; yields its URL."""
    config = lab.config
    db = tmp_path_factory.mktemp("monitor") / "monitor.db"
    env = {**os.environ, "CALLSLA_AMI_URL": config.part_ami_url("monitor"),
           "CALLSLA_MQTT_URL": config.part_mqtt_url("monitor"),
           "CALLSLA_METRICS_ADDR": f"127.0.0.1:{config.ports.metrics}",
           "CALLSLA_DB_URL": f"sqlite:///{db}", "CALLSLA_PBX": "lab"}
    log = (config.lab_dir / "run" / "monitor.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "monitor", "monitor"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: port_open(config.ports.metrics), 20, "callsla monitor /metrics")
    except LabStartError as exc:
        proc.kill()
        pytest.fail(str(exc), pytrace=False)
    yield f"http://127.0.0.1:{config.ports.metrics}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture
async def ami(lab: Lab) -> AsyncIterator[AmiClient]:
    """A fresh AMI connection with events on, closed after the test."""
    client = AmiClient(port=lab.config.ports.ami, username=lab.config.ami_user,
                       secret=lab.config.ami_secret)
    await client.connect()
    yield client
    await client.close()


def monotonic_deadline(seconds: float) -> float:
    return time.monotonic() + seconds


@pytest.fixture(scope="module", autouse=True)
def quiet_pbx(lab: Lab) -> None:
    """Each lab test module starts on an idle PBX with a fresh queue_log: calls a previous
    module left behind are hung up, and a new monitor's backfill reads only this module's calls
    (as after a site's nightly log rotation), so no module's figures include another's callers.
    Module scope, before the module's own fixtures: those may set up calls its tests share."""
    if _lab_error is not None:  # the lab did not start again after a module's own lab
        pytest.fail(f"lab unavailable: {_lab_error}", pytrace=False)
    pbx = lab.pbx
    assert pbx is not None

    def idle() -> bool:
        if pbx.cli("core show channels count").startswith("0 active channels"):
            return True
        pbx.cli("channel request hangup all")
        return False

    try:
        wait_until(idle, 15, "the PBX to hang up the previous module's calls")
    except LabStartError as exc:
        # A channel that ignores a hangup request is a caller left hanging: say which.
        left = pbx.cli("core show channels concise").strip().replace("\n", " | ")
        pytest.fail(f"{exc}: {left}", pytrace=False)
    pbx.cli("logger rotate")
