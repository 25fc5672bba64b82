"""Walking pycparser ASTs without recursion, quickly.

``Node.children()`` builds a ``("name[i]", child)`` pair, with a formatted
name, for every child; the extractor only wants the children, in the same
order, which the generated ``__iter__`` of each node class gives directly
(pycparser and pycparserext define both for every node class).  A class
that does not define its own ``__iter__`` falls back to ``children()``.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from pycparser import c_ast

_ITERABLE: Dict[type, bool] = {}


def children(node: c_ast.Node) -> List[c_ast.Node]:
    """The children of ``node``, in ``children()`` order."""
    cls = type(node)
    ok = _ITERABLE.get(cls)
    if ok is None:
        ok = _ITERABLE[cls] = "__iter__" in cls.__dict__ and "children" in cls.__dict__
    return list(node) if ok else [c for _, c in node.children()]


def preorder(node: Optional[c_ast.Node]) -> List[c_ast.Node]:
    """Every node under ``node`` (itself first), in pre-order, as a list:
    a function body is walked several times by the extractor."""
    out: List[c_ast.Node] = []
    if node is None:
        return out
    stack = [node]
    pop, push, add = stack.pop, stack.extend, out.append
    iterable = _ITERABLE
    while stack:
        n = pop()
        add(n)
        cls = type(n)
        ok = iterable.get(cls)
        if ok is None:
            ok = iterable[cls] = "__iter__" in cls.__dict__ and "children" in cls.__dict__
        kids = list(n) if ok else [c for _, c in n.children()]
        if kids:
            kids.reverse()
            push(kids)
    return out
