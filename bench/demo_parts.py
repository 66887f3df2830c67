"""The demo's parts as processes: which pid each part starts from, its process tree, and what
the tree uses (RSS and fds for the soak, CPU time for the event-lag bench), read from /proc."""

from __future__ import annotations

import os
from pathlib import Path

from lab.demo import Demo

TICKS = os.sysconf("SC_CLK_TCK")


def children_by_parent() -> dict[int, list[int]]:
    """Every process's children, from one scan of /proc (a part's tree is looked up in it)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def process_tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def parts_of(demo: Demo) -> dict[str, int]:
    """Part name -> the pid its process tree starts from."""
    lab = demo.lab
    found = {"monitor": demo.monitor, "agi-server": demo.agi,
             "asterisk": lab.pbx.process if lab.pbx else None,
             "mosquitto": lab.mosquitto.process, "prometheus": lab.prometheus.process}
    if demo.use_postgres:
        found["postgres"] = lab.postgres.process
    return {name: part.process.pid for name, part in found.items()
            if part is not None and part.process is not None}


def cpu_seconds(pids: list[int], children: dict[int, list[int]]) -> float:
    """User + system CPU seconds of these processes and their descendants still alive (a
    process that has ended takes its time with it: read before a part's processes exit)."""
    total = 0
    for pid in pids:
        for member in process_tree(pid, children):
            try:
                fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended between the scan and the read
            total += int(fields[11]) + int(fields[12])
    return total / TICKS
