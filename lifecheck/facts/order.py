"""The order of two calls along one teardown or one phase.

Two events of one phase are ordered in the control-flow graph of the first
function where their call chains part; events of different phases follow
the lifecycle order.
"""
from __future__ import annotations

from typing import Dict, Tuple

import networkx as nx

from ..graph import PHASES, Event, Program


class Order:
    """Is one event after another in the same phase?  Decided in the CFG of
    the first function where their call chains part."""

    def __init__(self, program: Program):
        self.program = program
        self._graphs: Dict[Tuple[str, str], Tuple[nx.DiGraph, Dict[int, Tuple[int, int]]]] = {}

    def _graph(self, key):
        got = self._graphs.get(key)
        if got is None:
            fn = self.program.functions.get(key)
            g = nx.DiGraph()
            where: Dict[int, Tuple[int, int]] = {}
            for i, node in enumerate(fn.cfg if fn else ()):
                g.add_node(i)
                for s in node.succ:
                    g.add_edge(i, s)
                for pos, (kind, idx) in enumerate(node.ops):
                    if kind == "c":
                        where[idx] = (i, pos)
            got = self._graphs[key] = (g, where)
        return got

    def after(self, first: Event, second: Event) -> bool:
        if first.phase != second.phase:
            return PHASES.index(second.phase) > PHASES.index(first.phase)
        f1, f2 = first.frames, second.frames
        k = 0
        while k < min(len(f1), len(f2)) and f1[k] == f2[k]:
            k += 1
        if k == min(len(f1), len(f2)):
            return False  # one call inside the other, or the same call
        (fn1, i1), (fn2, i2) = f1[k], f2[k]
        if fn1 != fn2:
            return False  # two hooks of one phase: order unknown
        g, where = self._graph(fn1)
        if i1 not in where or i2 not in where:
            return i2 > i1
        (n1, p1), (n2, p2) = where[i1], where[i2]
        if n1 == n2:
            return p2 > p1
        return nx.has_path(g, n1, n2)
