"""Rule kinds over acquire/release pairs of the API table (rules/api).

- ``leak``: acquired in some phases (realize, instance_init), released in
  none of the phases that must release it (leak-on-unrealize, init-leak);
- ``error-path-leak``: acquired on a path of a function's control-flow
  graph that then leaves through an error exit without releasing it
  (realize-error-leak);
- ``double-release`` and ``use-after-release``: along one teardown
  (unrealize, then instance_finalize), a resource released twice, or used
  after its release.

A resource is (API family, access path key).  Calls lifecheck cannot see
into that receive the resource (or the object holding it) during the
releasing phases count as a possible release: a leak is only reported when
no code that could release it was found.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Set, Tuple

import networkx as nx

from ..findings import Finding, RelatedLocation
from ..graph import PHASES, DeviceType, Event, Program, field_path
from ..model import GLOBAL, LOCAL, SELF, AccessPath, Function, Location
from .catalog import RuleSpec

TEARDOWN = ("unrealize", "instance_finalize")
CHILD_FAMILIES = ("qom-child",)
ALL = "*"   # key of a release that releases every resource of its family


@dataclass(frozen=True)
class Op:
    """What one event does to a resource of one API family."""

    role: str                       # acquire | release | disarm
    family: str
    path: Optional[AccessPath]      # None: a result that is not kept
    event: Event
    attrs: Tuple[str, ...] = ()

    @property
    def key(self) -> Optional[str]:
        return list_key(self.path) if self.path is not None else None


# include/qemu/queue.h: the fields of list heads and links.  An element
# inserted into ``s->list`` (stored through ``tqh_circ.tql_prev->tql_next``)
# and one freed while iterating it (``d = s->list.tqh_first``) are both
# "an element of s->list".
_QUEUE_FIELDS = frozenset({
    "lh_first", "le_next", "le_prev", "sqh_first", "sqh_last", "sqe_next",
    "slh_first", "sle_next", "tqh_first", "tqh_circ", "tql_next", "tql_prev",
    "tqe_next", "tqe_circ", "sqh_circ",
})


def list_key(path: AccessPath) -> str:
    steps = path.steps
    for i, (_, name) in enumerate(steps):
        if name in _QUEUE_FIELDS:
            j = i
            while j < len(steps) and steps[j][1] in _QUEUE_FIELDS:
                j += 1
            # s->list.lh_first->name: the name of an element of s->list
            return AccessPath(path.root, steps[:i]).key() + "{}" + AccessPath("", steps[j:]).key()
    return path.key()


def _root_ok(path: Optional[AccessPath], roots: Iterable[str]) -> bool:
    if path is None:
        return "discarded" in roots
    names = [name for op, name in path.steps if name]
    if len(names) != len(set(names)):
        return False  # s->pcm->streams[]->s->pcm: a back pointer, not a field of the device
    kind = path.root_kind
    if path.root == SELF:
        return "self" in roots
    if kind == GLOBAL:
        # registrations keyed by a global (&vmstate_foo, a reset function);
        # not memory hung on global lists
        return "global" in roots and not path.steps
    if kind == LOCAL:
        return "local" in roots
    return False


class LifetimeFacts:
    """API effects of one device type, per phase, in execution order."""

    def __init__(self, ctx, dev: DeviceType):
        self.ctx = ctx
        self.program: Program = ctx.program
        self.dev = dev
        self.ops: Dict[str, List[Op]] = {}
        self.opaque: Dict[str, List[Event]] = {}   # calls lifecheck cannot follow
        for phase in PHASES:
            ops: List[Op] = []
            opaque: List[Event] = []
            for ev in ctx.facts(dev).events[phase]:
                effects = ctx.api.effects(ev)
                ops.extend(effects)
                if not effects and ev.site.callee not in self.program.managed_calls \
                        and self.program.resolve(ev.function[0], ev.site.callee) is None:
                    opaque.append(ev)
            self.ops[phase] = ops
            self.opaque[phase] = opaque
        self.ops["realize"] = self.ops["realize"] + ctx.property_ops(dev)
        # embedded QOM children (object_initialize_child(), qbus_init()):
        # what is stored inside them is theirs to release
        self.children: Set[str] = {
            op.key for phase in PHASES for op in self.ops[phase]
            if op.role == "acquire" and op.family in CHILD_FAMILIES and op.key is not None}
        # fields of properties qdev releases itself at finalize
        released_infos = set(ctx.catalog.tables.get("ownership", {}).get("framework_released_properties", []))
        self.framework_released: Set[str] = {
            field_path(entry.field).key()
            for entry, _, _ in self.program.properties_of(dev) if entry.info in released_infos}

    def in_child(self, key: Optional[str]) -> bool:
        """The resource lives inside an embedded QOM child of the device."""
        return key is not None and any(key.startswith(c) and key[len(c):len(c) + 1] in (".", "[")
                                       for c in self.children)

    def released(self, phases: Iterable[str]) -> Set[Tuple[str, str]]:
        out = set()
        for phase in phases:
            for op in self.ops[phase]:
                if op.role == "release" and op.key is not None:
                    out.add((op.family, op.key))
                    if "all" in op.attrs:   # virtio_cleanup(): every queue of the device
                        out.add((op.family, ALL))
        return out

    def handed_off(self, phases: Iterable[str], path: AccessPath) -> Optional[Event]:
        """A call lifecheck cannot follow that receives ``path`` or an
        object holding it (``foo_cleanup(s->sub)`` for ``s->sub->timer``)."""
        key = path.key()
        for phase in phases:
            for ev in self.opaque[phase]:
                for arg in ev.args:
                    p = arg.path
                    if p is None or p.root != path.root:
                        continue
                    k = p.key()
                    if k == key or (p.steps and key.startswith(k) and key[len(k)] in ".[*"):
                        return ev
        return None


def _families(ctx, cfg: dict) -> Set[str]:
    names = cfg.get("families", "must_release")
    if names == "must_release":
        chosen = {f.name for f in ctx.catalog.families.values() if f.must_release}
    else:
        chosen = set(names if isinstance(names, list) else [names])
    return chosen - set(cfg.get("exclude_families", []))


def _hook_loc(program: Program, dev: DeviceType, phase: str) -> Optional[Location]:
    refs = dev.hooks.get(phase)
    if not refs:
        return None
    return program.functions[refs[0].function].loc


def _family_summary(ctx, family: str) -> str:
    fam = ctx.catalog.families.get(family)
    return fam.summary if fam is not None and fam.summary else family


def _describe(op: Op) -> str:
    if op.path is not None:
        return str(op.path)
    return f"the result of {op.event.site.callee}()"


def _message(spec: RuleSpec, **fields) -> str:
    template = spec.config.get("message", "{resource}: " + spec.summary)
    try:
        return template.format(**fields)
    except (KeyError, IndexError, ValueError):
        return f"{fields.get('resource')}: {spec.summary}"


# -- leak ------------------------------------------------------------------

def leak(ctx, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg = spec.config
    facts = ctx.lifetime(dev)
    families = _families(ctx, cfg)
    acquire_phases = cfg.get("acquire_phases", ["realize"])
    release_phases = cfg.get("release_phases", list(TEARDOWN))
    roots = cfg.get("roots", ["self"])
    released = facts.released(list(release_phases) + list(acquire_phases))
    # a handle that is not kept (virtio_add_queue()'s result) cannot be
    # matched by name: any release of its family counts
    families_released = {fam for fam, _ in released}
    out = []
    for phase in acquire_phases:
        for op in facts.ops[phase]:
            if op.role != "acquire" or op.family not in families or not _root_ok(op.path, roots):
                continue
            if op.path is None and not op.event.site.discarded:
                continue  # the value is passed on (foo(g_strdup(x))): not ours to track
            if op.key is not None and ((op.family, op.key) in released or (op.family, ALL) in released):
                continue
            if op.key is None and op.family in families_released:
                continue
            if op.key in facts.framework_released or facts.in_child(op.key):
                continue
            if op.path is not None and facts.handed_off(list(release_phases), op.path):
                continue
            ev = op.event
            release_phase = release_phases[0]
            related = [RelatedLocation(_hook_loc(ctx.program, dev, phase) or ev.site.loc,
                                       f"{phase} hook of {dev.name}", "hook")]
            for rp in release_phases:
                loc = _hook_loc(ctx.program, dev, rp)
                if loc is not None:
                    related.append(RelatedLocation(loc, f"{rp} of {dev.name} does not release "
                                                        f"{_describe(op)}", "missing-release"))
            if len(related) == 1:
                related.append(RelatedLocation(dev.record.loc, f"{dev.name} has no "
                                               f"{' or '.join(release_phases)} hook that releases it",
                                               "missing-release"))
            out.append(Finding(
                rule=spec.slug, severity=ctx.severity(spec, dev), loc=ev.site.loc,
                message=_message(spec, resource=_describe(op), what=_family_summary(ctx, op.family),
                                 call=ev.site.callee, phase=phase, device=dev.name,
                                 release_phase=release_phase,
                                 releases=_release_names(ctx, op.family)),
                function=ev.function[1], resource=_describe(op), hook=phase, device=dev.name,
                related=tuple(related)))
    return out


def _release_names(ctx, family: str) -> str:
    fam = ctx.catalog.families.get(family)
    if fam is None:
        return "its release"
    names: List[str] = []
    for c in fam.calls:   # in the order the data lists them: the usual one first
        if c.role == "release" and c.function not in names:
            names.append(c.function)
    more = ", ..." if len(names) > 3 else ""
    return ", ".join(n + "()" for n in names[:3]) + more


# -- ordering along a teardown ----------------------------------------------

class _Order:
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


def _cleared(ctx, dev: DeviceType, key: str) -> bool:
    """Some teardown code stores into the resource's field (``s->t = NULL``)."""
    for phase in TEARDOWN:
        for st in ctx.program.stores(dev, phase):
            if st.lhs is not None and st.lhs.key() == key:
                return True
    return False


def _teardown_releases(ctx, dev: DeviceType, families: Set[str]) -> List[Op]:
    facts = ctx.lifetime(dev)
    out = []
    for phase in TEARDOWN:
        for op in facts.ops[phase]:
            if op.role == "release" and op.family in families and op.path is not None \
                    and op.path.root == SELF and op.path.steps:
                out.append(op)
    return out


def double_release(ctx, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    families = _families(ctx, spec.config)
    order = ctx.order
    ops = _teardown_releases(ctx, dev, families)
    out = []
    reported: Set[Tuple[str, Location]] = set()
    for i, first in enumerate(ops):
        if "idempotent" in first.attrs or "clears" in first.attrs:
            continue
        for second in ops[i + 1:] + ops[:i]:
            if second.event is first.event or second.key != first.key:
                continue
            if second.family != first.family:
                continue
            if "{}" in first.key or ("[]" in first.key and first.event.phase == second.event.phase):
                continue  # a loop over elements releases each once
            if not order.after(first.event, second.event) or _cleared(ctx, dev, first.key):
                continue
            if (first.key, second.event.site.loc) in reported:
                continue
            reported.add((first.key, second.event.site.loc))
            ev = second.event
            out.append(Finding(
                rule=spec.slug, severity=ctx.severity(spec, dev), loc=ev.site.loc,
                message=_message(spec, resource=str(second.path), call=ev.site.callee,
                                 first_call=first.event.site.callee, first_phase=first.event.phase,
                                 first_line=first.event.site.loc.line, phase=ev.phase,
                                 device=dev.name),
                function=ev.function[1], resource=str(second.path), hook=ev.phase, device=dev.name,
                related=(RelatedLocation(first.event.site.loc,
                                         f"{first.path} is first released here ({first.event.phase})",
                                         "release"),)))
    return out


def use_after_release(ctx, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    families = _families(ctx, spec.config)
    order = ctx.order
    releases = _teardown_releases(ctx, dev, families)
    events = [ev for phase in TEARDOWN for ev in ctx.facts(dev).events[phase]]
    out = []
    reported: Set[Tuple[str, Location]] = set()
    for rel in releases:
        if "[]" in rel.key or "{}" in rel.key or _cleared(ctx, dev, rel.key):
            continue
        if rel.path.address_of:
            # unregistering an embedded object (&s->vbasedev) frees nothing
            continue
        key = rel.key
        for ev in events:
            if ev is rel.event or ev.site.callee in spec.config.get("not_uses", []):
                continue
            used = None
            for arg in ev.args:
                p = arg.path
                if p is None or p.root != SELF:
                    continue
                k = p.key()
                if k == key or (k.startswith(key) and k[len(key)] in ".[*"
                                and _through_pointer(rel.path, p)):
                    used = p
                    break
            if used is None:
                continue
            # a second release of the same resource is double-release's finding
            if any(o.role == "release" and o.key == key and o.family == rel.family
                   for o in ctx.api.effects(ev)):
                continue
            if not order.after(rel.event, ev):
                continue
            if (key, ev.site.loc) in reported:
                continue
            reported.add((key, ev.site.loc))
            out.append(Finding(
                rule=spec.slug, severity=ctx.severity(spec, dev), loc=ev.site.loc,
                message=_message(spec, resource=str(used), released=str(rel.path),
                                 call=ev.site.callee, release_call=rel.event.site.callee,
                                 release_phase=rel.event.phase, release_line=rel.event.site.loc.line,
                                 phase=ev.phase, device=dev.name),
                function=ev.function[1], resource=str(rel.path), hook=ev.phase, device=dev.name,
                related=(RelatedLocation(rel.event.site.loc,
                                         f"{rel.path} is released here ({rel.event.phase})", "release"),)))
            break
    return out


def _through_pointer(released: AccessPath, used: AccessPath) -> bool:
    """``s->sub->x`` uses the memory of ``s->sub`` (freed by g_free(s->sub));
    ``s->sub.x`` where sub is embedded is not reached through the pointer."""
    n = len(released.steps)
    return len(used.steps) > n and used.steps[n][0] in ("->", "*", "[]")


# -- error paths -------------------------------------------------------------

def error_path_leak(ctx, spec: RuleSpec, dev: Optional[DeviceType]) -> List[Finding]:
    """Realize hooks of ``dev``: resources of the device acquired on a path
    that leaves through an error exit unreleased and that
    instance_finalize does not release either (unrealize is not called
    after a failed realize)."""
    if dev is None:
        return []
    cfg = spec.config
    families = _families(ctx, cfg)
    facts = ctx.lifetime(dev)
    finalize_released = facts.released(["instance_finalize"])
    out = []
    for ref in dev.hooks.get("realize", ()):
        fn = ctx.program.functions.get(ref.function)
        if fn is None or not fn.cfg:
            continue
        by_top: Dict[int, List[Op]] = {}
        for op in facts.ops["realize"]:
            fr = op.event.frames
            if fr and fr[0][0] == ref.function:
                by_top.setdefault(fr[0][1], []).append(op)
        leaks = _dataflow(fn, lambda idx: by_top.get(idx, ()), families, ("self", "global"))
        for (fam, key, op), ret_line in sorted(leaks.items(), key=lambda kv: (kv[0][2].event.site.loc, kv[0][1])):
            if (fam, key) in finalize_released or (fam, ALL) in finalize_released \
                    or key in facts.framework_released:
                continue
            if op.path is not None and facts.handed_off(["instance_finalize"], op.path):
                continue
            out.append(_error_finding(ctx, spec, dev, fn, op, ret_line, "realize"))
    return out


def local_error_path_leaks(ctx, spec: RuleSpec) -> List[Finding]:
    """Every function: objects and timers acquired into locals that an
    error exit leaves behind (``dev = pci_new(); if (!qdev_realize(dev,
    ..., errp)) return NULL;``)."""
    cfg = spec.config
    families = set(cfg.get("local_families", []))
    if not families:
        return []
    out = []
    for key in sorted(ctx.program.functions):
        fn = ctx.program.functions[key]
        if not fn.cfg or not any(ctx.api.acquires(site.callee, families) for site in fn.calls):
            continue
        events = {site.index: ctx.api.effects(_bare_event(key, site)) for site in fn.calls}
        leaks = _dataflow(fn, lambda idx: events.get(idx, ()), families, ("local",))
        for (fam, rkey, op), ret_line in sorted(leaks.items(), key=lambda kv: (kv[0][2].event.site.loc, kv[0][1])):
            local = fn.locals.get(rkey.split(":", 1)[1].split(".")[0])
            if local is not None and local.cleanup:
                continue
            out.append(_error_finding(ctx, spec, None, fn, op, ret_line, "realize"))
    return out


def _bare_event(key, site) -> Event:
    return Event("realize", site, key, site.args, site.result, (key[1],), ((key, site.index),))


def _error_finding(ctx, spec, dev, fn: Function, op: Op, ret_line: int, phase: str) -> Finding:
    ev = op.event
    ret_loc = Location(fn.loc.file, ret_line, 1)
    severity = ctx.severity(spec, dev) if dev is not None else spec.config.get("default_severity", "warning")
    return Finding(
        rule=spec.slug, severity=severity, loc=ev.site.loc,
        message=_message(spec, resource=_describe(op), what=_family_summary(ctx, op.family),
                         call=ev.site.callee, function=fn.name, return_line=ret_line,
                         releases=_release_names(ctx, op.family)),
        function=fn.name, resource=_describe(op), hook=phase, device=dev.name if dev else "",
        related=(RelatedLocation(ret_loc, f"error exit of {fn.name}() that leaves "
                                          f"{_describe(op)} behind", "error-exit"),))


_ERROR_ARG_RE = re.compile(r"(\berrp\b|&\s*(local_err|err|error|local_error)\b)")


def _takes_errp(site) -> bool:
    return any(_ERROR_ARG_RE.search(a.text or "") for a in site.args)


def _dataflow(fn: Function, ops_at, families: Set[str], roots) -> Dict[Tuple[str, str, Op], int]:
    """Forward may-analysis over ``fn.cfg``.  State: set of (family, key,
    acquiring op, path-has-failed, fresh).  ``fresh`` marks what the latest
    call taking an Error argument acquired: when the next error branch is
    taken, that call is the one that failed, and a failing call undoes its
    own work (include/qapi/error.h), so on that branch it acquired nothing.
    Returns {(family, key, op): line of the first error exit that leaves it
    unreleased}."""
    cfg = fn.cfg
    start = frozenset({(None, None, None, False, False)})
    state_in: Dict[int, frozenset] = {0: start}
    work = [0]
    leaks: Dict[Tuple[str, str, Op], int] = {}
    visits = 0
    while work and visits < 20000:
        visits += 1
        n = work.pop()
        node = cfg[n]
        st = set(state_in.get(n, ()))
        if node.error:
            st = {(f, k, o, True, fr) for (f, k, o, _, fr) in st}
        for kind, idx in node.ops:
            if kind == "a":
                a = fn.assignments[idx]
                rhs = a.rhs.path
                lhs = a.lhs.path
                if rhs is not None and lhs is not None and lhs.root_kind != LOCAL:
                    k = rhs.key()
                    st = {e for e in st if e[1] != k}      # stored away: owned elsewhere now
                continue
            site = fn.calls[idx] if 0 <= idx < len(fn.calls) else None
            ops = list(ops_at(idx))
            # the call whose failure the next error check tests: one taking
            # an Error, one made in the condition itself, or one whose
            # status (not the resource) goes into a local: ret = f(...)
            status_local = site is not None and site.result is not None \
                and site.result.root_kind == LOCAL \
                and not any(op.key == list_key(site.result) for op in ops)
            if site is not None and (_takes_errp(site) or node.kind == "cond" or status_local):
                st = {(f, k, o, fl, False) for (f, k, o, fl, _) in st}
                fresh = True
            else:
                fresh = None   # keeps whatever freshness it adds to
            for op in ops:
                if op.family not in families:
                    continue
                if op.role == "release" and "all" in op.attrs:
                    st = {e for e in st if e[0] != op.family}
                elif op.role == "release" and op.key is not None:
                    st = {e for e in st if not (e[1] == op.key and e[0] == op.family)}
                elif op.role == "acquire" and op.path is not None and _root_ok(op.path, roots):
                    flags = {e[3] for e in st} or {False}
                    st |= {(op.family, op.key, op, f, bool(fresh)) for f in flags}
        if node.kind == "return":
            returned = node.value.path.key() if node.value is not None and node.value.path else None
            for (f, k, o, failed, _) in st:
                if failed and o is not None and k != returned:
                    leaks.setdefault((f, k, o), node.line)
        for s in node.succ:
            out = st
            if node.kind == "cond":
                # the first test after the call is the one about its failure
                if cfg[s].error and not node.error:
                    out = {e for e in st if not e[4]}   # the call that failed acquired nothing
                out = {(f, k, o, fl, False) for (f, k, o, fl, _) in out}
            old = state_in.get(s)
            new = frozenset(out) if old is None else old | out
            if new != old:
                state_in[s] = new
                work.append(s)
    return leaks
