"""Function summaries: what a function hands back to its caller.

A walk from a lifecycle hook (``graph.Program.events``) follows helpers
and re-bases what they do on their parameters onto the device, so what a
helper acquires on ``s->field`` is already the device's.  What it cannot
see is what a helper *returns*: ``s->bh = foo_bh_new(...)`` where
foo_bh_new() returns ``aio_bh_new(...)``, or ``s->ring = ring_new(...)``
where ring_new() allocates a struct, creates a timer inside it and returns
it.  Inside the helper those live in locals; at the call they become the
device's, at the path the result is stored to.

``Summaries`` computes, once per function and run, bottom-up over the
call graph (a depth-first post-order, its reverse topological order, so a
helper's summary is ready before its callers'; a cycle is summarised as a
unit), and only for the functions some call site asks about, the
acquisitions a value-returning function returns: the API family and the
path inside the returned object (``()`` for the object itself,
``->timer`` for a field of it).  A
helper's summary is made of the API table's effects of its own calls and
the summaries of the helpers it calls, so it crosses files as the call
graph does.  ``effects(ev)`` turns the summary of the function an event
calls into ``Op``s at the event's result path: every rule sees them as it
sees the API table's acquisitions, at the call site.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, List, Optional, Tuple

from ..graph import Event, FunctionKey, Program
from ..model import CALL, LOCAL, PARAM, AccessPath, CallSite, Function, key_within
from .api import ApiIndex, Op

# a returned object holds at most this many acquisitions that are passed on
MAX_RETURNED = 16
# how deep releases of a parameter are followed through helpers
MAX_RELEASE_DEPTH = 6
# how deep returned values are followed through helpers
MAX_SUMMARY_DEPTH = 24


@dataclass(frozen=True)
class Returned:
    """One acquisition a function returns: of ``family``, at ``steps``
    below the returned value (``()``: the value itself), made by the call
    ``call`` (the API function) at ``loc``, ``via`` the helpers between."""

    family: str
    steps: Tuple[Tuple[str, str], ...]
    address_of: bool
    attrs: Tuple[str, ...]
    call: str
    via: Tuple[str, ...]


class Summaries:
    """The returned acquisitions of every function of a program."""

    def __init__(self, program: Program, api: ApiIndex):
        self.program = program
        self.api = api
        self.returns: Dict[FunctionKey, Tuple[Returned, ...]] = {}
        # function -> (family, parameter index, key below it) it releases
        self._param_releases: Dict[FunctionKey, FrozenSet[Tuple[str, int, str]]] = {}

    # -- bottom-up -----------------------------------------------------------
    def returns_of(self, key: Optional[FunctionKey], depth: int = 0) -> Tuple[Returned, ...]:
        """What the function returns (see ``Returned``), computed on first
        use and kept for the run.  A function's summary is made after the
        summaries of the functions it calls: a depth-first post-order over
        the call graph, i.e. its reverse topological order; a call back
        into a function still being summarised (a cycle of the call graph)
        sees nothing for it, so a cycle is summarised once, as a unit.
        Only what some call site asks for is computed."""
        if key is None:
            return ()
        got = self.returns.get(key)
        if got is not None:
            return got
        fn = self.program.functions.get(key)
        if fn is None or not fn.returns_value or not fn.calls or depth > MAX_SUMMARY_DEPTH:
            return ()
        values = self._returned_values(fn)
        self.returns[key] = ()          # in progress: a recursive call sees nothing
        got = self.returns[key] = self._summarise(key, fn, values, depth) if values else ()
        return got

    def param_releases(self, key: FunctionKey, depth: int = 0) -> FrozenSet[Tuple[str, int, str]]:
        """What the function releases of what its parameters point to, as
        (family, parameter index, the key below the parameter): its own
        API calls, and those of the helpers it passes them to
        (``qbus_init_internal(bus, ...)`` drops the creation reference of
        the bus qbus_new() made).  Computed on demand, callees first."""
        got = self._param_releases.get(key)
        if got is not None:
            return got
        self._param_releases[key] = frozenset()   # a cycle sees nothing for itself
        fn = self.program.functions[key]
        out = set()
        for site in fn.calls:
            ops = self.api.effects_uncached(_bare_event(key, site))
            for op in ops:
                if op.role == "release" and op.path is not None and op.path.root_kind == PARAM:
                    out.add((op.family, int(op.path.root.split(":", 1)[1]), op.key[len(op.path.root):]))
            if ops or depth >= MAX_RELEASE_DEPTH:
                continue
            target = self.program.resolve(key[0], site.callee)
            if target is None or target == key:
                continue
            for fam, i, below in self.param_releases(target, depth + 1):
                arg = site.args[i].path if i < len(site.args) else None
                if arg is not None and arg.root_kind == PARAM:
                    out.add((fam, int(arg.root.split(":", 1)[1]), arg.key()[len(arg.root):] + below))
        got = self._param_releases[key] = frozenset(out)
        return got

    def _summarise(self, key: FunctionKey, fn: Function, returned: List, depth: int) -> Tuple[Returned, ...]:
        api = self.api
        success = _success_nodes(fn)
        node_of: Dict[int, int] = {}
        for n, node in enumerate(fn.cfg):
            for kind, idx in node.ops:
                if kind == "c":
                    node_of[idx] = n
        # acquisitions held in the function's own values: (path, Returned
        # with steps relative to that path's root)
        held: List[Tuple[AccessPath, Returned]] = []
        released = set()
        call_results: Dict[int, List[Returned]] = {}   # call index -> what its value holds
        for site in fn.calls:
            ops = api.effects_uncached(_bare_event(key, site))
            inner: List[Returned] = []
            for op in ops:
                if op.role == "release" and op.key is not None and node_of.get(site.index) in success:
                    released.add((op.family, _local_key(op.path)))
                elif op.role == "acquire" and "result" in op.attrs:
                    inner.append(Returned(op.family, (), False, op.attrs, site.callee or "", ()))
                elif op.role == "acquire" and op.path is not None and op.path.root_kind == LOCAL:
                    held.append((op.path, Returned(op.family, op.path.steps, op.path.address_of, op.attrs,
                                                   site.callee or "", ())))
            if not ops:
                target = self.program.resolve(key[0], site.callee)
                if target is not None and node_of.get(site.index) in success:
                    for fam, i, below in self.param_releases(target):
                        arg = site.args[i].path if i < len(site.args) else None
                        if arg is not None and arg.root_kind == LOCAL:
                            released.add((fam, arg.key() + below))
                for r in self.returns_of(target, depth + 1):
                    inner.append(Returned(r.family, r.steps, r.address_of, r.attrs, r.call,
                                          (site.callee or "",) + r.via))
            if inner:
                call_results[site.index] = inner
                if site.result is not None and site.result.root_kind == LOCAL:
                    for r in inner:
                        path = AccessPath(site.result.root, site.result.steps + r.steps,
                                          r.address_of or (site.result.address_of and not r.steps))
                        held.append((path, Returned(r.family, path.steps, path.address_of, r.attrs,
                                                    r.call, r.via)))
        out: List[Returned] = []
        seen = set()

        def add(r: Returned) -> None:
            k = (r.family, r.steps, r.address_of)
            if k not in seen and len(out) < MAX_RETURNED:
                seen.add(k)
                out.append(r)

        for value in returned:
            if value.kind == "call":
                for n, node in enumerate(fn.cfg):
                    if node.kind != "return" or node.value is not value:
                        continue
                    idx = [i for kind, i in node.ops if kind == "c" and fn.calls[i].callee == value.callee]
                    for r in call_results.get(idx[-1], ()) if idx else ():
                        add(r)
                continue
            base = value.path
            bkey = base.key()
            for path, r in held:
                pkey = path.key()
                if (r.family, _local_key(path)) in released \
                        or (not getattr(value, "stolen", False) and _cleaned_up(fn, path)):
                    continue
                if path.root != base.root or not (pkey == bkey or key_within(pkey, bkey)):
                    continue
                steps = path.steps[len(base.steps):]
                add(Returned(r.family, steps, path.address_of if steps else False, r.attrs, r.call, r.via))
        return tuple(out)

    def _returned_values(self, fn: Function) -> List:
        """The values the function returns that it made itself: a call's
        result, or a local (and the locals copied into it)."""
        out = []
        copies: Dict[str, List[AccessPath]] = {}
        for a in fn.assignments:
            lp, rp = a.lhs.path, a.rhs.path
            if lp is not None and rp is not None and lp.root_kind == LOCAL and not lp.steps \
                    and rp.root_kind == LOCAL and a.rhs.kind == "path":
                copies.setdefault(lp.root, []).append(rp)
        for node in fn.cfg:
            v = node.value
            if node.kind != "return" or v is None or v.path is None:
                continue
            if v.kind == "call" and v.path.root_kind == CALL:
                out.append(v)
            elif v.kind == "path" and v.path.root_kind == LOCAL and v.path.address_of and not v.path.steps:
                # ``return g_steal_pointer(&obj)`` (a call the frontend sees
                # through to ``&obj``): the value of obj, taken from its
                # g_autoptr cleanup
                out.append(_PathValue(AccessPath(v.path.root), stolen=True))
            elif v.kind == "path" and v.path.root_kind == LOCAL and not v.path.address_of:
                out.append(v)
                for p in copies.get(v.path.root, ()) if not v.path.steps else ():
                    out.append(_PathValue(p))
        return out

    # -- at a call site --------------------------------------------------------
    def effects(self, ev: Event) -> List[Op]:
        """What the function ``ev`` calls returns, as acquisitions at the
        path the caller stores the result to (none when it is not kept)."""
        if ev.result is None or ev.site.callee in self.program.managed_calls:
            return []
        got = self.returns_of(self.program.resolve(ev.function[0], ev.site.callee))
        if not got:
            return []
        base = ev.result
        out = []
        for r in got:
            path = AccessPath(base.root, base.steps + r.steps, r.address_of if r.steps else base.address_of)
            attrs = tuple(a for a in r.attrs if a != "result" or not r.steps) + ("returned",)
            out.append(Op("acquire", r.family, path, ev, attrs))
        return out


@dataclass(frozen=True)
class _PathValue:
    path: AccessPath
    kind: str = "path"
    stolen: bool = False


def _cleaned_up(fn: Function, path: AccessPath) -> bool:
    """``path`` is a ``g_autoptr``/``g_autofree`` local itself: released
    at scope exit, whatever the function returns (``return
    POWERPC_CPU(obj)`` of a ``g_autoptr(Object) obj`` hands back a pointer
    whose creation reference the return drops)."""
    local = fn.locals.get(path.root.split(":", 1)[1])
    return local is not None and local.cleanup and not path.steps


def _local_key(path: Optional[AccessPath]) -> str:
    return path.key() if path is not None else ""


def _bare_event(key: FunctionKey, site: CallSite) -> Event:
    return Event("realize", site, key, site.args, site.result, (key[1],), ((key, site.index),))


def _success_nodes(fn: Function) -> frozenset:
    """The CFG nodes reachable from the entry without entering an error
    node: a release only an error exit makes does not release what the
    function returns on success."""
    if not fn.cfg:
        return frozenset()
    seen = {0}
    todo = [0]
    while todo:
        for s in fn.cfg[todo.pop()].succ:
            if s not in seen and not fn.cfg[s].error:
                seen.add(s)
                todo.append(s)
    return frozenset(seen)
