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
from ..model import CALL, LOCAL, PARAM, AccessPath, CallSite, Function, Location, key_within
from .api import ApiIndex, Op

# a returned object holds at most this many acquisitions that are passed on
MAX_RETURNED = 16
# how deep releases of a parameter are followed through helpers
MAX_RELEASE_DEPTH = 6
# how deep returned values are followed through helpers
MAX_SUMMARY_DEPTH = 24
# how deep, and how many, accesses through parameters are followed (reads_of)
MAX_READ_DEPTH = 4
# out-parameter summaries (param_acquires): how deep below *param an
# acquisition is followed, and how many holdings a path may carry
MAX_OUT_STEPS = 4
MAX_OUT_STATE = 64
MAX_READS = 400


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
        # what a function releases of what its parameters point to, and
        # what it touches through them: see ``_bounded``
        self._param_releases = _Bounded()
        self._reads = _Bounded()
        # function -> (parameter index, what it leaves in *param) on success
        self._param_acquires: Dict[FunctionKey, Tuple[Tuple[int, Returned], ...]] = {}

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
        the bus qbus_new() made), at most MAX_RELEASE_DEPTH calls below
        the first.  Computed on demand, callees first (``_Bounded``)."""
        return self._releases_at(key, depth)[0]

    def _releases_at(self, key: FunctionKey, depth: int) -> Tuple[FrozenSet[Tuple[str, int, str]], Optional[int]]:
        got = self._param_releases.get(key, depth)
        if got is not None:
            return got
        fn = self.program.functions[key]
        out = set()
        height: Optional[int] = 0
        for site in fn.calls:
            ops = self.api.effects_uncached(_bare_event(key, site))
            for op in ops:
                if op.role == "release" and op.path is not None and op.path.root_kind == PARAM:
                    out.add((op.family, int(op.path.root.split(":", 1)[1]), op.key[len(op.path.root):]))
            if ops:
                continue
            below_releases, height = self._deeper(key, site, depth, MAX_RELEASE_DEPTH, self._releases_at, height)
            for fam, i, below in below_releases or ():
                arg = site.args[i].path if i < len(site.args) else None
                if arg is not None and arg.root_kind == PARAM:
                    out.add((fam, int(arg.root.split(":", 1)[1]), arg.key()[len(arg.root):] + below))
        return self._param_releases.put(key, depth, frozenset(out), height, MAX_RELEASE_DEPTH)

    def reads_of(self, key: Optional[FunctionKey], depth: int = 0) -> Dict[str, Tuple[AccessPath, Location]]:
        """The memory a function touches through its parameters: its own
        accesses (``Function.reads``) and, a few calls deep, those of the
        functions it passes them to, re-based on its parameters
        (vhost_dev_cleanup(hdev) passes ``hdev->vqs[]`` to
        vhost_virtqueue_cleanup(), which reads ``vq->masked_notifier``:
        ``arg0->vqs[]->masked_notifier``).  Path key -> (path, where the
        access is).  At most MAX_READ_DEPTH calls below the first, and
        MAX_READS accesses: computed on demand, callees first
        (``_Bounded``)."""
        if key is None:
            return {}
        return self._reads_at(key, depth)[0]

    def _reads_at(self, key: FunctionKey, depth: int) -> Tuple[Dict[str, Tuple[AccessPath, Location]], Optional[int]]:
        got = self._reads.get(key, depth)
        if got is not None:
            return got
        fn = self.program.functions.get(key)
        if fn is None:
            return {}, 0
        out: Dict[str, Tuple[AccessPath, Location]] = {}
        for path, loc in fn.reads:
            if path.root_kind == PARAM:
                out.setdefault(path.key(), (path, loc))
        height: Optional[int] = 0
        for site in fn.calls:
            if site.callee in self.program.managed_calls:
                continue
            reads, height = self._deeper(key, site, depth, MAX_READ_DEPTH, self._reads_at, height)
            for path, loc in (reads or {}).values():
                j = int(path.root.split(":", 1)[1])
                arg = site.args[j].path if j < len(site.args) else None
                if arg is None or arg.root_kind != PARAM:
                    continue
                if len(out) >= MAX_READS:
                    height = None   # cut by the count, which the depth moves
                    break
                mapped = path.with_root(arg)
                out.setdefault(mapped.key(), (mapped, loc))
        return self._reads.put(key, depth, out, height, MAX_READ_DEPTH)

    def _deeper(self, key: FunctionKey, site: CallSite, depth: int, bound: int, at, height: Optional[int]):
        """What the function ``site`` calls gives asked one call deeper
        (``at``: ``_reads_at``, ``_releases_at``; None when the call reaches
        no other function or ``depth`` is at ``bound``), and the height of
        the caller's answer once it is part of it (``height`` so far; None:
        cut, as at ``bound``)."""
        target = self.program.resolve(key[0], site.callee)
        if target is None or target == key:
            return None, height
        if depth >= bound:
            return None, None
        answer, below = at(target, depth + 1)
        return answer, None if height is None or below is None else max(height, below + 1)

    def param_acquires(self, key: Optional[FunctionKey], depth: int = 0) -> Tuple[Tuple[int, Returned], ...]:
        """What the function leaves, when it succeeds, in what its pointer
        parameters point to (``*info = g_malloc0(...)``, directly, through a
        local it then stores there, or through a helper it passes the
        pointer on to): (parameter index, the acquisition with ``steps``
        below ``*param``).  A forward may-analysis over the function's CFG,
        so what a loop frees before it tries again, or a failing exit frees
        and clears (``g_free(*info); *info = NULL; return -errno;``), is not
        left; exits that return a failure (an error path, a negative value,
        NULL) do not count.  Computed on demand, callees first, like
        ``returns_of``."""
        if key is None:
            return ()
        got = self._param_acquires.get(key)
        if got is not None:
            return got
        fn = self.program.functions.get(key)
        if fn is None or not fn.cfg or not fn.calls or depth > MAX_SUMMARY_DEPTH \
                or not any("*" in p.type for p in fn.params):
            return ()
        self._param_acquires[key] = ()     # in progress: a recursive call sees nothing
        got = self._param_acquires[key] = self._out_params(key, fn, depth)
        return got

    def _out_params(self, key: FunctionKey, fn: Function, depth: int) -> Tuple[Tuple[int, Returned], ...]:
        api = self.api
        # what each call does, as (role, holder, family, steps, Returned):
        # holder ("p", i) is *param_i, ("l", name) a local
        effects: Dict[int, List[Tuple]] = {}
        for site in fn.calls:
            out: List[Tuple] = []
            ops = api.effects_uncached(_bare_event(key, site))
            for op in ops:
                h = _holder(op.path)
                if h is None:
                    continue
                if op.role == "acquire":
                    out.append(("acquire", h[0], op.family, h[1],
                                Returned(op.family, h[1], False, op.attrs, site.callee or "", ())))
                elif op.role == "release":
                    out.append(("release", h[0], op.family, h[1], None))
            if not ops:
                target = self.program.resolve(key[0], site.callee)
                if target is not None and target != key:
                    for j, r in self.param_acquires(target, depth + 1):
                        arg = site.args[j].path if j < len(site.args) else None
                        if arg is None:
                            continue
                        h = _holder(AccessPath(f"{PARAM}:{j}", (("*", ""),) + r.steps).with_root(arg))
                        if h is not None:
                            out.append(("acquire", h[0], r.family, h[1],
                                        Returned(r.family, h[1], False, r.attrs, r.call,
                                                 (site.callee or "",) + r.via)))
                    for fam, i, below in self.param_releases(target):
                        arg = site.args[i].path if i < len(site.args) else None
                        h = _holder(arg)
                        if h is not None:
                            out.append(("release", h[0], fam, None, None))
            if out:
                effects[site.index] = out
        if not any(e[0] == "acquire" for outs in effects.values() for e in outs):
            return ()   # nothing acquired here: nothing can be left in *param
        state_in: Dict[int, frozenset] = {0: frozenset()}
        work = [0]
        visits = 0
        held_at_success: Dict[Tuple, Returned] = {}
        while work and visits < 20000:
            visits += 1
            n = work.pop()
            node = fn.cfg[n]
            st = set(state_in.get(n, ()))
            for kind, idx in node.ops:
                if kind == "c":
                    for role, h, fam, steps, r in effects.get(idx, ()):
                        if role == "acquire":
                            st.add((h, fam, steps, r))
                        else:
                            # a release of the holder (steps None: all of it)
                            st = {e for e in st if not (e[0] == h and e[1] == fam
                                                        and (steps is None or e[2] == steps))}
                    continue
                a = fn.assignments[idx] if 0 <= idx < len(fn.assignments) else None
                if a is None or a.rhs.kind == "call" or (a.rhs.path is not None and a.rhs.path == a.lhs.path):
                    # the call's own effects are its result's; ``*out = sub``
                    # reaches here as ``*out = *out`` (the frontend follows
                    # the local to where it is stored)
                    continue
                h = _holder(a.lhs.path)
                if h is None:
                    continue
                holder, steps = h
                # overwritten: what it held is no longer reached through it
                st = {e for e in st if not (e[0] == holder and e[2][:len(steps)] == steps)}
                src = _holder(a.rhs.path) if a.rhs.kind == "path" and a.rhs.path is not None \
                    and not a.rhs.path.address_of else None
                if src is not None:
                    for e in list(st):
                        if e[0] == src[0] and e[2][:len(src[1])] == src[1]:
                            below = steps + e[2][len(src[1]):]
                            if len(below) > MAX_OUT_STEPS or len(st) > MAX_OUT_STATE:
                                continue   # a list walk (``p = p->next``) would grow it without end
                            st.add((holder, e[1], below, Returned(e[1], below, False, e[3].attrs,
                                                                  e[3].call, e[3].via)))
            if node.kind == "return" and not _failing_return(node):
                for h, fam, steps, r in st:
                    if h[0] == "p":
                        held_at_success.setdefault((h[1], fam, steps), r)
            for nxt in node.succ:
                old = state_in.get(nxt)
                new = frozenset(st) if old is None else old | st
                if new != old:
                    state_in[nxt] = new
                    work.append(nxt)
        out = [(i, r) for (i, _, _), r in sorted(held_at_success.items(), key=lambda kv: kv[0])]
        return tuple(out[:MAX_RETURNED])

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
        path the caller stores the result to (none when it is not kept),
        and what it leaves in what its pointer arguments point to
        (``helper(..., &s->info)``: an acquisition of ``s->info``, marked
        "out-param"; ``DeviceFacts.ops`` drops what the walk saw the
        helper do to that path itself)."""
        if ev.site.callee in self.program.managed_calls:
            return []
        target = self.program.resolve(ev.function[0], ev.site.callee)
        out = []
        for i, r in self.param_acquires(target):
            arg = ev.arg_path(i)
            if arg is None:
                continue
            path = AccessPath(f"{PARAM}:{i}", (("*", ""),) + r.steps).with_root(arg)
            out.append(Op("acquire", r.family, path, ev, tuple(a for a in r.attrs if a not in ("result", "out-param"))
                          + ("out-param",)))
        if ev.result is None:
            return out
        got = self.returns_of(target)
        if not got:
            return out
        base = ev.result
        for r in got:
            path = AccessPath(base.root, base.steps + r.steps, r.address_of if r.steps else base.address_of)
            attrs = tuple(a for a in r.attrs if a != "result" or not r.steps) + ("returned",)
            out.append(Op("acquire", r.family, path, ev, attrs))
        return out


class _Bounded:
    """The cache of a summary computed at most a bounded number of calls
    deep (``reads_of``, ``param_releases``): what a function gives asked
    at depth d (d calls below the first question) is cut at the bound, so
    it depends on d.  Kept by function alone when the cut did not matter:
    the function's calls end ``height`` calls below it, so the answer is
    the same at every depth d with d + height <= the bound; by (function,
    depth) otherwise (a deep chain, a cycle of calls: the bound, not a
    mark of what is in progress, ends it).  So an answer does not depend
    on which caller asked first -- nor, therefore, on the rules run or
    on -j, which change that order."""

    def __init__(self):
        self._whole: Dict[FunctionKey, Tuple[object, int, int]] = {}   # answer, height, deepest depth it holds at
        self._cut: Dict[Tuple[FunctionKey, int], object] = {}

    def get(self, key: FunctionKey, depth: int):
        """(answer, height or None) at ``depth``, or None if not made."""
        whole = self._whole.get(key)
        if whole is not None and depth <= whole[2]:
            return whole[0], whole[1]
        cut = self._cut.get((key, depth))
        return (cut, None) if cut is not None else None

    def put(self, key: FunctionKey, depth: int, answer, height: Optional[int], bound: int):
        """Keep ``answer`` made at ``depth`` (``height``: None when cut)."""
        if height is None:
            self._cut[(key, depth)] = answer
        else:
            self._whole[key] = (answer, height, bound - height)
        return answer, height


def _holder(path: Optional[AccessPath]):
    """Where an out-parameter analysis keeps what ``path`` names: (("p",
    i), steps below ``*param_i``) or (("l", name), steps below the local);
    None for anything else (the device, a global, a parameter's fields)."""
    if path is None or path.address_of:
        return None
    kind = path.root_kind
    if kind == PARAM and path.steps and path.steps[0][0] == "*":
        return ("p", int(path.root.split(":", 1)[1])), path.steps[1:]
    if kind == LOCAL:
        return ("l", path.root), path.steps
    return None


def _failing_return(node) -> bool:
    """A return that says the function failed: on an error path, NULL, or
    a negative value (``-1``, ``-ENODEV``, ``-errno``)."""
    if node.error:
        return True
    v = node.value
    if v is None:
        return False
    if v.kind == "null":
        return True
    return (v.text or "").replace(" ", "").startswith("-")


def drop_covered(ops: List[Op]) -> List[Op]:
    """``ops`` of one phase without what the walk saw inside a helper whose
    out-parameter summary stands for it: an op of an event made below the
    call of the summarised helper, on the path the summary acquires (or
    inside it).  The summary says what the helper leaves there when it
    succeeds; the frees and retries the walk sees in its loops and failing
    exits are the helper's own business."""
    covered = [(op.event.frames, op.key) for op in ops if "out-param" in op.attrs and op.key is not None]
    if not covered:
        return ops

    def inside(op: Op) -> bool:
        frames, key = op.event.frames, op.key
        if key is None:
            return False
        for fr, k in covered:
            if len(frames) > len(fr) and frames[:len(fr)] == fr and (key == k or key_within(key, k)):
                return True
        return False
    # an out-parameter acquisition inside another (the helper's helper
    # that fills the same pointer) goes too: the outer call stands for it
    return [op for op in ops if not inside(op)]


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
