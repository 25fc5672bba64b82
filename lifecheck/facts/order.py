"""The order of two calls along one teardown or one phase.

Two events of one phase are ordered in the control-flow graph of the first
function where their call chains part; events of different phases follow
the lifecycle order.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Tuple

import networkx as nx

from ..graph import PHASES, Event, Program


class Order:
    """Is one event after another in the same phase?  Decided in the CFG of
    the first function where their call chains part."""

    def __init__(self, program: Program):
        self.program = program
        self._graphs: Dict[Tuple[str, str], Tuple[nx.DiGraph, Dict[int, Tuple[int, int]]]] = {}
        self._success: Dict[Tuple[str, str], FrozenSet[int]] = {}

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

    def on_error_path(self, ev: Event, start: int = 0) -> bool:
        """The call runs only on an error path: it, or a call that led to
        it, sits where its function gets only through an error branch
        (``model.CfgNode.error``: the branch of an error check, after
        error_setg(), an error return), e.g. under the labels of a goto
        cleanup ladder that only error exits jump to.  ``start``: only the
        frames from this depth down count (those inside the helper called
        there)."""
        for key, idx in ev.frames[start:]:
            fn = self.program.functions.get(key)
            if fn is None or not fn.cfg:
                continue
            _, where = self._graph(key)
            at = where.get(idx)
            if at is not None and at[0] not in self._success_nodes(key, fn):
                return True
        return False

    def _success_nodes(self, key, fn) -> FrozenSet[int]:
        """The nodes of ``fn``'s CFG reachable from its entry without
        entering an error node."""
        got = self._success.get(key)
        if got is None:
            seen = {0}
            todo = [0]
            while todo:
                for s in fn.cfg[todo.pop()].succ:
                    if s not in seen and not fn.cfg[s].error:
                        seen.add(s)
                        todo.append(s)
            got = self._success[key] = frozenset(seen)
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
