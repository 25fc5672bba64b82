"""Walking pycparser ASTs without recursion, quickly.

``Node.children()`` builds a ``("name[i]", child)`` pair, with a formatted
name, for every child; the extractor only wants the children, in the same
order, which the generated ``__iter__`` of each node class gives directly
(pycparser and pycparserext define both for every node class).  A class
that does not define its own ``__iter__`` falls back to ``children()``.

Used by the frontend modules that read ASTs (functions.py, qom.py, cfg.py);
it knows pycparser's node classes and nothing of what is looked for.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from pycparser import c_ast

_ITERABLE: Dict[type, bool] = {}


def children(node: c_ast.Node) -> List[c_ast.Node]:
    """The children of ``node``, in ``children()`` order."""
    cls = type(node)
    ok = _ITERABLE.get(cls)
    if ok is None:
        ok = _ITERABLE[cls] = "__iter__" in cls.__dict__ and "children" in cls.__dict__
    return list(node) if ok else [c for _, c in node.children()]


def _child_slots(cls: type) -> Optional[Tuple[str, ...]]:
    """The attributes that hold the children of a pycparser node class, in
    ``__iter__`` order, or None where that cannot be read off the class.
    pycparser generates ``__iter__`` as one test-and-yield per child
    attribute, in order, so the order is that of the attribute names in
    its code (``NamedInitializer`` yields ``expr`` before ``name``,
    unlike its ``__slots__``)."""
    own = cls.__dict__
    if not (cls.__module__ == c_ast.__name__ and "__slots__" in own and "__iter__" in own
            and "children" in own and "attr_names" in own):
        return None
    kids = {s for s in own["__slots__"] if s not in ("coord", "__weakref__") and s not in own["attr_names"]}
    order = tuple(name for name in own["__iter__"].__code__.co_names if name in kids)
    return order if set(order) == kids else None


def _kids(node: c_ast.Node, slots: Tuple[str, ...]) -> List[c_ast.Node]:
    out: List[c_ast.Node] = []
    for name in slots:
        kid = getattr(node, name)
        if type(kid) is list:
            out.extend(kid)
        elif kid is not None:
            out.append(kid)
    return out


_SLOTS: Dict[type, Optional[Tuple[str, ...]]] = {}


def preorder(node: Optional[c_ast.Node]) -> List[c_ast.Node]:
    """Every node under ``node`` (itself first), in pre-order, as a list:
    a function body is walked several times by the extractor.  The
    children of pycparser's own node classes are read from their slots
    (``_child_slots``) rather than through their generator ``__iter__``."""
    out: List[c_ast.Node] = []
    if node is None:
        return out
    stack = [node]
    pop, push, add = stack.pop, stack.append, out.append
    known = _SLOTS
    iterable = _ITERABLE
    while stack:
        n = pop()
        add(n)
        cls = type(n)
        try:
            slots = known[cls]
        except KeyError:
            slots = _child_slots(cls)
            if slots is not None and _kids(n, slots) != list(n):
                slots = None  # not what __iter__ gives: use __iter__
            known[cls] = slots
        if slots is not None:
            # pushed last child first, so the first is popped first
            for name in reversed(slots):
                kid = getattr(n, name)
                if kid is None:
                    continue
                if type(kid) is list:
                    for k in reversed(kid):
                        push(k)
                else:
                    push(kid)
            continue
        ok = iterable.get(cls)
        if ok is None:
            ok = iterable[cls] = "__iter__" in cls.__dict__ and "children" in cls.__dict__
        kids = list(n) if ok else [c for _, c in n.children()]
        if kids:
            kids.reverse()
            stack.extend(kids)
    return out
