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
from functools import cached_property
from typing import Dict, Iterable, List, Optional, Set, Tuple

import networkx as nx

from ..findings import Finding, RelatedLocation
from ..graph import PHASES, DeviceType, Event, Program, translate_path, field_path
from ..model import GLOBAL, LOCAL, PARAM, SELF, AccessPath, Function, Location
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
    container: Optional[AccessPath] = None   # what it is registered into (the data's "container")

    @cached_property
    def key(self) -> Optional[str]:   # read many times per op by every rule
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


def _root_ok(path: Optional[AccessPath], roots: Iterable[str], attrs: Tuple[str, ...] = ()) -> bool:
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
        # not memory hung on global lists, nor an object made once and kept
        # in a global (``if (!pfs) pfs = g_hash_table_new(...)``): a
        # process-wide singleton, not device state
        return "global" in roots and not path.steps and "result" not in attrs
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
        # objects the device sets up inside itself (usb_bus_new(&s->bus))
        self.own_objects: Set[str] = {
            op.key for phase in PHASES for op in self.ops[phase]
            if op.role == "acquire" and op.key is not None and op.path.root == SELF}
        # pointers to objects the device only links to (DEFINE_PROP_LINK)
        link_infos = set(ctx.catalog.tables.get("ownership", {}).get("link_properties", []))
        self.links: Set[str] = {
            field_path(entry.field).key()
            for entry, _, _ in self.program.properties_of(dev) if entry.info in link_infos}

    def not_ours(self, key: Optional[str], children: bool = True) -> bool:
        """The resource is released by qdev, lives in an embedded QOM child
        (``children``: the child's unrealize releases it, which a failed
        realize never reaches), or is stored inside an object the device
        only links to."""
        if key is None:
            return False
        return key in self.framework_released or (children and self.in_child(key)) \
            or any(key.startswith(link) and key[len(link):len(link) + 1] in (".", "[", "*")
                   for link in self.links)

    def self_contained(self, op: Op) -> bool:
        """Registered into a container the device set up inside itself
        (usb_register_port() onto its own usb_bus_new() bus): nothing
        outside the device reaches it, and it goes away with the device."""
        return op.container is not None and op.container.root == SELF \
            and op.container.key() in self.own_objects

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
            if op.role != "acquire" or op.family not in families or not _root_ok(op.path, roots, op.attrs):
                continue
            if op.path is None and not op.event.site.discarded:
                continue  # the value is passed on (foo(g_strdup(x))): not ours to track
            if op.key is not None and ((op.family, op.key) in released or (op.family, ALL) in released):
                continue
            if op.key is None and op.family in families_released:
                continue
            if facts.not_ours(op.key) or facts.self_contained(op):
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
        leaks = _dataflow(fn, lambda idx: by_top.get(idx, ()), families, ("self", "global"),
                          on_self=True, never_set=lambda p: ctx.program.never_set(dev, p))
        for (fam, key, op), ret_line in sorted(leaks.items(), key=lambda kv: (kv[0][2].event.site.loc, kv[0][1])):
            if (fam, key) in finalize_released or (fam, ALL) in finalize_released \
                    or facts.not_ours(key, children=False) or facts.self_contained(op):
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
        events = {site.index: ctx.api.effects_uncached(_bare_event(key, site)) for site in fn.calls}
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
    """A call that can fail and say so in an Error argument.  The Error
    API itself (error_prepend(), error_report_err(), error_propagate(),
    warn_report_err(), ...: include/qapi/error.h) only reports or moves an
    error that some earlier call made."""
    if (site.callee or "").startswith(("error_", "warn_")):
        return False
    return any(_ERROR_ARG_RE.search(a.text or "") for a in site.args)


def _dataflow(fn: Function, ops_at, families: Set[str], roots, on_self: bool = False,
              never_set=None) -> Dict[Tuple[str, str, Op], int]:
    """Forward may-analysis over ``fn.cfg``.  State: set of (family, key,
    acquiring op, path-has-failed, fresh, decisions).  ``fresh`` marks what
    the latest call taking an Error argument acquired: when the next error
    branch is taken, that call is the one that failed, and a failing call
    undoes its own work (include/qapi/error.h), so on that branch it
    acquired nothing.  ``decisions``: the outcomes of the tests of plain
    values that the function makes more than once and never assigns
    (``if (!s->migratable)`` around both the acquisition and the release):
    a later test of the same value goes the same way on that path, and
    what was acquired under a test (``Event.guards``, in a helper too)
    exists only where that test holds.  ``on_self``: the function is a
    hook whose first parameter is the device (tests of its fields are
    compared with the guards; ``never_set(path)``: a field still zero
    while realizing, whose tests are false).  The entry (family None)
    carries the path's own flags.
    Returns {(family, key, op): line of the first error exit that leaves it
    unreleased}."""
    cfg = fn.cfg
    unwritten = _unwritten_tests(fn)
    counts: Dict[str, int] = {}
    for node in cfg:
        if node.test:
            counts[node.test.lstrip("!")] = counts.get(node.test.lstrip("!"), 0) + 1
    guarded: Set[str] = set()
    if on_self:
        for i in range(len(fn.calls)):
            for op in ops_at(i):
                guarded.update(g.key() for g in op.event.guards)
    self_env = {0: AccessPath(SELF)}

    def value_of(node) -> Tuple[str, Optional[bool]]:
        """(key of the value the node tests, its known value or None)"""
        text = node.test.lstrip("!")
        if not text or text not in unwritten:
            return "", None
        if on_self and node.test_path is not None and node.test_path.root.startswith(PARAM + ":"):
            path = translate_path(node.test_path, self_env)
            if path.root == SELF:
                if never_set is not None and never_set(path):
                    return path.key(), False
                if path.key() in guarded or counts[text] > 1:
                    return path.key(), None
                return "", None
        return (text, None) if counts[text] > 1 else ("", None)
    start = frozenset({(None, None, None, False, False, frozenset())})
    state_in: Dict[int, frozenset] = {0: start}
    work = [0]
    leaks: Dict[Tuple[str, str, Op], int] = {}
    acquired_at: Dict[int, int] = {}                 # id(op) -> node
    loop_releases: Dict[Tuple[str, str], Set[int]] = {}  # (family, key or ALL) -> nodes
    visits = 0
    while work and visits < 20000:
        visits += 1
        n = work.pop()
        node = cfg[n]
        st = set(state_in.get(n, ()))
        if node.error:
            st = {(f, k, o, True, fr, d) for (f, k, o, _, fr, d) in st}
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
                st = {(f, k, o, fl, False, d) for (f, k, o, fl, _, d) in st}
                fresh = True
            else:
                fresh = None   # keeps whatever freshness it adds to
            for op in ops:
                if op.family not in families:
                    continue
                if op.role == "release" and "all" in op.attrs:
                    st = {e for e in st if e[0] != op.family}
                    loop_releases.setdefault((op.family, ALL), set()).add(n)
                elif op.role == "release" and op.key is not None:
                    st = {e for e in st if not (e[1] == op.key and e[0] == op.family)}
                    if "[]" in op.key:
                        loop_releases.setdefault((op.family, op.key), set()).add(n)
                elif op.role == "acquire" and op.path is not None and _root_ok(op.path, roots, op.attrs):
                    acquired_at[id(op)] = n
                    paths = {(e[3], e[5]) for e in st if e[0] is None} or {(False, frozenset())}
                    under = frozenset((g.key(), True) for g in op.event.guards) if on_self else frozenset()
                    st |= {(op.family, op.key, op, f, bool(fresh), d | under) for f, d in paths
                           if not any((k, not v) in d for k, v in under)}
        if node.kind == "return":
            returned = node.value.path.key() if node.value is not None and node.value.path else None
            for (f, k, o, failed, _, _) in st:
                if failed and o is not None and k != returned:
                    leaks.setdefault((f, k, o), node.line)
        # the first test after the call that can lead to an error exit is the
        # one about its failure; a test that cannot (a retry loop's
        # ``while (ret < 0 && retries--)``) leaves the question open
        tests = node.kind == "cond" and any(cfg[s].error for s in node.succ)
        value, known = value_of(node) if node.test else ("", None)
        for s in node.succ:
            out = st
            if s in node.failure:
                out = {e for e in st if not e[4]}   # retried because the call failed: it acquired nothing
            if tests:
                if cfg[s].error and not node.error:
                    out = {e for e in st if not e[4]}   # the call that failed acquired nothing
                out = {(f, k, o, fl, False, d) for (f, k, o, fl, _, d) in out}
            if value:
                holds = (s in node.then) != node.test.startswith("!")   # the value is true here
                if known is not None and holds != known:
                    continue
                out = {(f, k, o, fl, fr, d | {(value, holds)}) for (f, k, o, fl, fr, d) in out
                       if (value, not holds) not in d}
            old = state_in.get(s)
            new = frozenset(out) if old is None else old | out
            if new != old:
                state_in[s] = new
                work.append(s)
    if loop_releases and leaks:
        leaks = _drop_loop_released(cfg, leaks, acquired_at, loop_releases)
    return leaks


def _unwritten_tests(fn: Function) -> Set[str]:
    """Values the function tests (``s->f``, ``x``) and never assigns or
    passes by address."""
    values = {node.test.lstrip("!") for node in fn.cfg if node.test}
    if not values:
        return values
    written = set()
    for a in fn.assignments:
        written.add((a.lhs.text or "").replace(" ", ""))
    for site in fn.calls:
        for arg in site.args:
            t = (arg.text or "").replace(" ", "")
            if t.startswith("&"):
                written.add(t[1:].strip("()"))
    out = set()
    for v in values:
        compact = v.replace(" ", "")
        if any(w == compact or w.startswith(compact + ".") or w.startswith(compact + "->")
               or compact.startswith(w + ".") or compact.startswith(w + "->") for w in written):
            continue
        out.add(v)
    return out


def _reachable(cfg, start: int) -> Set[int]:
    seen = {start}
    todo = [start]
    while todo:
        for s in cfg[todo.pop()].succ:
            if s not in seen:
                seen.add(s)
                todo.append(s)
    return seen


def _drop_loop_released(cfg, leaks, acquired_at, loop_releases):
    """Elements of an array (``s->vqs[i]``) are released in a loop, and
    the may-analysis also follows the loop's zero-iteration path past the
    release.  An element leak is dropped when a release of that array (or
    of the whole family, ``virtio_del_queue()``) lies between the
    acquisition and the exit."""
    reach: Dict[int, Set[int]] = {}

    def reaches(a: int, b: int) -> bool:
        if a not in reach:
            reach[a] = _reachable(cfg, a)
        return b in reach[a]
    exits = {}
    for n, node in enumerate(cfg):
        if node.kind == "return":
            exits.setdefault(node.line, []).append(n)
    out = {}
    for (fam, key, op), line in leaks.items():
        nodes = set(loop_releases.get((fam, ALL), ()))
        if "[]" in key:
            nodes |= loop_releases.get((fam, key), set())
        a = acquired_at.get(id(op))
        if nodes and a is not None and any(
                reaches(a, r) and any(reaches(r, x) for x in exits.get(line, ())) for r in nodes):
            continue
        out[(fam, key, op)] = line
    return out
