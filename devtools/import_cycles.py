"""Fails when any two modules or packages of the project import each other, directly or not.

import-linter's layers contract (pyproject.toml) keeps the stages in order; this catches the
cycles inside one stage that a layers contract cannot see (e.g. report.py <-> report_html.py).
Run by `make lint`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import grimp

PACKAGES = ("monitor", "agi_scripts", "dashboards", "lab")


def strongly_connected(nodes: Iterable[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of nodes that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    modules = sorted(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) & graph.modules for m in modules}
    return strongly_connected(modules, edges)


def package_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Cycles between sibling subpackages (monitor.ingest <-> monitor.backfill)."""
    found: list[list[str]] = []
    for parent in sorted(graph.modules):
        children = sorted(c for c in graph.find_children(parent) if graph.find_children(c))
        if len(children) < 2:
            continue
        edges: dict[str, set[str]] = {c: set() for c in children}
        for a in children:
            for b in children:
                if a != b and graph.chain_exists(importer=a, imported=b, as_packages=True):
                    edges[a].add(b)
        found += strongly_connected(children, edges)
    return found


def main() -> int:
    graph = grimp.build_graph(*PACKAGES)
    cycles = module_cycles(graph) + package_cycles(graph)
    for group in cycles:
        print("import cycle: " + " <-> ".join(group))
    print(f"import cycles: {len(cycles)} ({len(graph.modules)} modules)")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
