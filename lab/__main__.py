"""`python -m lab up|cli|call|demo`: run the PBX lab by hand, or the whole product (demo)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time

from dashboards import RULE_FILES
from lab.calls import place_inbound_call
from lab.chroot import ensure_chroot
from lab.config import LabConfig
from lab.demo import run_demo
from lab.pbx import AsteriskPbx
from lab.processes import LabStartError
from lab.stack import Lab
from monitor.ami import AmiClient


def _wait_for_ctrl_c() -> None:
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while not stop:
        time.sleep(0.2)


def _print_urls(config: LabConfig) -> None:
    print(f"  AMI         {config.ami_url.replace(config.ami_secret, '***')}")
    print(f"  MQTT        {config.mqtt_url.replace(config.ami_secret, '***')}")
    print(f"  TLS         tls://...@127.0.0.1:{config.ports.ami_tls} (AMI), "
          f"mqtts://...@127.0.0.1:{config.ports.mqtts}, CA {config.tls_dir / 'ca.pem'}")
    print("  users       callsla-monitor, callsla-agi, callsla-officer (AMI); callsla-monitor, "
          "callsla-agi, callsla-helpdesk (MQTT); secret as the harness's")
    print(f"  Prometheus  {config.prometheus_url}")
    print(f"  PostgreSQL  {config.postgres_url}")
    print(f"  /metrics    http://127.0.0.1:{config.ports.metrics}/metrics")
    print(f"  wallboard   http://127.0.0.1:{config.ports.metrics}/wallboard")


def cmd_up(_args: argparse.Namespace) -> int:
    lab = Lab(rule_files=list(RULE_FILES))
    timings = lab.start()
    print(f"lab up in {timings['total']:.1f} s — Ctrl-C stops it")
    _print_urls(lab.config)
    try:
        _wait_for_ctrl_c()
    finally:
        lab.stop()
    return 0


def cmd_cli(args: argparse.Namespace) -> int:
    config = LabConfig.from_env()
    pbx = AsteriskPbx(config, ensure_chroot(config.cache_dir))
    print(pbx.cli(" ".join(args.command)), end="")
    return 0


async def _calls(args: argparse.Namespace) -> None:
    config = LabConfig.from_env()
    async with AmiClient(port=config.ports.ami, username=config.ami_user,
                         secret=config.ami_secret, events=False) as ami:
        for n in range(args.count):
            await place_inbound_call(ami, caller_id=f"03{n:08d}", patience=args.patience)
            await asyncio.sleep(args.every)


def cmd_call(args: argparse.Namespace) -> int:
    asyncio.run(_calls(args))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole product with a simulated working day; Ctrl-C stops everything."""
    return run_demo(postgres=args.postgres, seed=args.seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    sub = parser.add_subparsers(dest="command_name", required=True)
    sub.add_parser("up", help="start the whole lab until Ctrl-C").set_defaults(run=cmd_up)
    cli = sub.add_parser("cli", help="run an Asterisk CLI command in the running lab")
    cli.add_argument("command", nargs="+")
    cli.set_defaults(run=cmd_cli)
    call = sub.add_parser("call", help="place inbound calls into the running lab")
    call.add_argument("--count", type=int, default=1)
    call.add_argument("--every", type=float, default=1.0)
    call.add_argument("--patience", type=float, default=60.0)
    call.set_defaults(run=cmd_call)
    demo = sub.add_parser("demo", help="the whole product and a simulated working day")
    demo.add_argument("--postgres", action="store_true", help="store in the lab's PostgreSQL")
    demo.add_argument("--seed", type=int, default=1, help="the traffic simulator's seed")
    demo.set_defaults(run=cmd_demo)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        code: int = args.run(args)
    except LabStartError as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
