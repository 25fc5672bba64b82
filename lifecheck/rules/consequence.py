"""What goes wrong when a finding is true, when, and whether that can
happen to its device: the consequence, severity, rank and reach of a
finding.

Derived from data and the model only, never from message text:

- the finding's shape (the rule's kind) and phase: a resource missing a
  release, released in the wrong phase, on an error exit, twice;
- the traits of the resource's API family (rules/api/*.toml):
  ``registration`` (it keeps a pointer to the device in code outside it),
  ``mapping`` (the guest reaches it);
- a rule's own ``consequence`` key, when its kind alone cannot tell;
- the device type's hotplug status (``DeviceType.unpluggable``, see
  graph.py) and whether it can be instantiated (not abstract).

A consequence whose event cannot happen to the device (a leak per unplug
on a device that is never unplugged, a failed realize of a device that is
only created at start-up, where a failed realize ends QEMU) holds only *in
principle*: a severity lower, a quarter of the rank, hidden by the default
view (pipeline.py) and counted.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

from ..facts import Facts
from ..facts.api import ApiFamily
from ..findings import CONSEQUENCES, SEVERITIES, Finding
from ..model import SELF
from ..graph import DeviceType
from .kinds.base import MINED_SEVERITY, describe_op
from .spec import RuleSpec

TEARDOWN = ("unrealize", "instance_finalize")
REGISTRATION, CALLBACK, IN_PLACE, MAPPING = "registration", "callback", "in-place", "mapping"


def derive(f: Finding, traits: Tuple[str, ...], declared: str = "") -> str:
    """The consequence (a key of CONSEQUENCES) of ``f``, from its shape,
    phase and family ``traits``; ``declared`` (a rule's ``consequence``
    key) wins when set."""
    if declared:
        return declared
    registration, mapping = REGISTRATION in traits, MAPPING in traits
    callback = CALLBACK in traits
    if f.shape == "stale-suppression":
        return "none"
    if f.shape == "missing-release":
        if mapping:
            return "stale-guest-mapping"
        if f.hook == "instance_init":
            if registration:
                return "use-after-free-after-introspection"
            # a timer set up in instance_init is armed only once realized:
            # what introspection leaves is its memory, if it has any
            if callback and IN_PLACE in traits:
                return "use-after-free-after-unplug"
            return "leak-per-introspection"
        return "use-after-free-after-unplug" if registration or callback else "leak-per-unplug"
    if f.shape == "error-exit-leak":
        return "use-after-free-after-failed-realize" if registration else "leak-on-failed-realize"
    if f.shape == "misplaced-release":
        if mapping:
            return "stale-guest-mapping"
        if any(r.role == "finalize" for r in f.related):
            # instance_finalize touches it after unrealize freed it: on
            # every unplug, not only under load
            return "use-after-free-on-teardown"
        callbacks = sum(1 for r in f.related if r.role == "callback")
        if callbacks and callbacks == sum(1 for r in f.related if r.role in ("cutoff", "inflight")):
            # every callback that reaches the memory is cut off later in
            # the same phase (freed-in-unrealize by reachability): the
            # order is wrong, but nothing serialised with the teardown
            # (the BQL) runs in between (cut_off_later: only in
            # principle); or cut off before the release, and only a
            # request already dispatched (in flight) can call it: against
            # memory.rst's rule, a narrow window
            return "api-misuse"
        if f.hook in ("unrealize", "realize", "runtime"):
            return "use-after-free-in-flight"
        return "api-misuse"
    if f.shape in ("second-release", "use-after-release"):
        return "use-after-free-on-teardown"
    return "api-misuse"


def cut_off_later(f: Finding) -> bool:
    """A misplaced release whose every callback that still reaches the
    memory is cut off later in the same phase (its related locations:
    one "cutoff" per "callback")."""
    callbacks = sum(1 for r in f.related if r.role == "callback")
    return f.shape == "misplaced-release" and callbacks > 0 \
        and callbacks == sum(1 for r in f.related if r.role == "cutoff")


# why an order-only misplaced release holds only in principle
ORDER_ONLY = ("every callback that reaches it is cut off later in the same teardown hook, which runs "
              "under the BQL like the callbacks: none can run in between")


# what each shape can lead to, by family trait and phase (``derive``)
_POSSIBLE = {
    "missing-release": ("use-after-free-after-unplug", "use-after-free-after-introspection", "stale-guest-mapping",
                        "leak-per-run", "leak-per-unplug", "leak-per-introspection"),
    "error-exit-leak": ("use-after-free-after-failed-realize", "leak-on-failed-realize"),
    "misplaced-release": ("stale-guest-mapping", "use-after-free-on-teardown", "use-after-free-in-flight",
                          "api-misuse"),
    "second-release": ("use-after-free-on-teardown",),
    "use-after-release": ("use-after-free-on-teardown",),
    "stale-suppression": ("none",),
}


def possible(shape: str, declared: str = "") -> Tuple[str, ...]:
    """The consequences a rule of ``shape`` can give its findings."""
    return (declared,) if declared else _POSSIBLE.get(shape, ("api-misuse",))


def reach(consequence: str, dev: Optional[DeviceType]) -> Tuple[bool, str]:
    """Whether the event ``consequence`` needs can happen to ``dev``, and
    why (its hotplug status, whether it can be instantiated)."""
    needs = CONSEQUENCES[consequence].needs
    if dev is None or not needs:
        return True, ""
    name = dev.name
    if needs == "instantiation":
        if dev.record.abstract:
            return False, f"'{name}' is abstract: it is never instantiated on its own"
        return True, (f"'{name}' can be created at run time (QMP device-list-properties, "
                      f"'-device {name},help')")
    status = dev.unplug_reason or "no hot-unpluggable ancestor"
    if needs == "unplug":
        if dev.unpluggable:
            return True, f"'{name}' can be hot-unplugged: {status}"
        return False, f"'{name}' is never unplugged: {status}"
    # runtime-realize: device_add of a device that can be unplugged (a
    # hotpluggable bus takes it at run time); other devices are realized
    # at start-up, where a failed realize ends QEMU
    if dev.unpluggable:
        return True, f"'{name}' can be added with device_add at run time: {status}"
    return False, f"'{name}' is only realized at start-up, where a failed realize ends QEMU: {status}"


# how far up the call graph a finding outside any device's lifecycle is
# followed to the realize hooks that run it
MAX_CALLER_DEPTH = 12


def reach_through_callers(facts: Facts, consequence: str, f: Finding) -> Tuple[bool, str]:
    """``reach`` for a finding outside any device's lifecycle (an object a
    helper holds in a local), whose consequence needs a device event:
    the devices whose realize hooks call the function, through any chain
    of callers.  It holds only in principle when every caller chain ends
    in such hooks and none of their devices can meet the event; a chain
    that ends anywhere else (no caller in the call graph: a callback, a
    board's init, a monitor command) leaves it reachable."""
    needs = CONSEQUENCES[consequence].needs
    program = facts.program
    key = (f.loc.file, f.function)
    if needs != "runtime-realize" or key not in program.functions:
        return True, ""
    realizing = _realize_hooks(program)
    startup = _startup_functions(program, facts.tables)
    graph = program.call_graph
    seen, todo, devices, boards = {key}, [(key, 0)], [], []
    while todo:
        cur, depth = todo.pop()
        names = realizing.get(cur, ())
        devices.extend(n for n in names if n not in devices)
        if cur in startup:
            boards.append(cur[1])
            continue
        callers = list(graph.predecessors(cur)) if cur in graph else []
        if not callers and not names:
            return True, ""          # run from somewhere no device's realize is
        if depth >= MAX_CALLER_DEPTH and callers:
            return True, ""
        for c in callers:
            if c not in seen:
                seen.add(c)
                todo.append((c, depth + 1))
    types = [program.types[n] for n in sorted(devices) if not program.types[n].record.abstract]
    if not types:
        if boards:
            return False, (f"{f.function}() runs only while QEMU starts, from a board's init "
                           f"({sorted(boards)[0]}()), where a failure ends QEMU")
        return True, ""
    results = [(dev, reach(consequence, dev)) for dev in types]
    live = [(dev, why) for dev, (ok, why) in results if ok]
    if live:
        return True, f"{f.function}() runs in the realize of '{live[0][0].name}': {live[0][1]}"
    first = results[0]
    more = f" (and {len(types) - 1} more device types, none added at run time)" if len(types) > 1 else ""
    return False, f"{f.function}() runs only in the realize of '{first[0].name}'{more}: {first[1][1]}"


def _startup_functions(program, tables: dict) -> set:
    """Functions bound to a class field of the hooks table's ``startup``
    list (``mc->init = spapr_machine_init``): they run once, as QEMU starts."""
    memo = getattr(program, "_startup_memo", None)
    if memo is None:
        fields = set(tables.get("hooks", {}).get("startup", []))
        memo = set()
        for unit in program.units:
            for b in unit.bindings:
                if b.target and f"{b.class_type}.{b.field}" in fields:
                    target = program.resolve(unit.file, b.target)
                    if target is not None:
                        memo.add(target)
        program._startup_memo = memo
    return memo


def _realize_hooks(program) -> dict:
    """function key -> the device types whose realize hooks it is."""
    memo = getattr(program, "_realize_hooks_memo", None)
    if memo is None:
        memo = {}
        for name, dev in program.types.items():
            for ref in dev.hooks.get("realize", ()):
                memo.setdefault(ref.function, []).append(name)
        program._realize_hooks_memo = memo
    return memo


def severity_for(consequence: str, reachable: bool, spec: Optional[RuleSpec],
                 version: Optional[Tuple[int, ...]], mined: bool) -> str:
    """The consequence's severity, a step lower when it holds only in
    principle; a rule's ``version_severity`` for the QEMU version (advice
    a version did not give yet) and a mined family cap it."""
    sev = CONSEQUENCES[consequence].severity
    if not reachable:
        sev = SEVERITIES[max(0, SEVERITIES.index(sev) - 1)]
    cap = spec.config.version_cap(version) if spec is not None else None
    if cap is not None:
        sev = min(sev, cap, key=SEVERITIES.index)
    if mined:
        sev = min(sev, MINED_SEVERITY, key=SEVERITIES.index)
    return sev


def rank_for(consequence: str, reachable: bool, mined: bool) -> int:
    """0-100: the consequence's rank, a quarter of it when it holds only in
    principle, half of that for a mined (unreviewed) family."""
    rank = CONSEQUENCES[consequence].rank
    if not reachable:
        rank //= 4
    if mined:
        rank //= 2
    return rank


def assess(facts: Facts, spec: Optional[RuleSpec], dev: Optional[DeviceType], f: Finding) -> Finding:
    """``f`` with its consequence, severity, rank and reach filled in."""
    family: Optional[ApiFamily] = facts.api.families.get(f.family) if f.family else None
    traits = family.traits if family is not None else ()
    if (REGISTRATION in traits or CALLBACK in traits) and dev is not None and _disarmed(facts, dev, f):
        # stopped on teardown: only its memory leaks
        traits = tuple(t for t in traits if t not in (REGISTRATION, CALLBACK))
    declared = getattr(spec.config, "consequence", "") if spec is not None else ""
    consequence = derive(f, traits, declared)
    reachable, why = reach(consequence, dev) if dev is not None else reach_through_callers(facts, consequence, f)
    if reachable and consequence == "api-misuse" and cut_off_later(f):
        # the order is wrong, nothing goes wrong: shown with --show-all
        reachable, why = False, ORDER_ONLY
    if f.shape == "missing-release" and f.hook == "runtime" and dev is not None \
            and (not reachable or CONSEQUENCES[consequence].rank < CONSEQUENCES["leak-per-run"].rank):
        again = acquired_again(facts, dev, f)
        if again:
            consequence, reachable, why = "leak-per-run", True, again
    return dataclasses.replace(
        f, consequence=consequence, in_principle=not reachable, reach=why, rank=rank_for(consequence, reachable, f.mined),
        severity=severity_for(consequence, reachable, spec, facts.version, f.mined))


def acquired_again(facts: Facts, dev: DeviceType, f: Finding) -> str:
    """Why the runtime acquisition of ``f`` leaks each time its code runs
    (a reset handler: ``s->t = timer_new_ns(...)`` on every reset), or ""
    when it may not: no release of it in runtime code, no test of the
    field before it (``if (!s->t) s->t = timer_new_ns(...)``)."""
    device = facts.device(dev)
    ops = device.ops.get("runtime", ())
    for op in ops:
        if op.role != "acquire" or op.event.site.loc != f.loc or op.path is None or op.path.root != SELF \
                or describe_op(op) != f.resource:
            continue
        if any(r.role == "release" and r.family == op.family and r.key == op.key for r in ops):
            return ""
        if facts.runtime.entry_of(dev, op.event) is not None:
            # a callback or a property setter (facts/runtime.py): whether
            # it runs again over what it kept depends on the device's
            # state and on code lifecheck does not all walk (a request's
            # completion through a bus's ops, a NIC's receive), unlike a
            # reset, which the framework runs again and again
            return ""
        if any(a.path is not None and a.path.key() == op.key for a in op.event.args):
            # the value it replaces is handed to the call (``s->voice =
            # AUD_open_out(card, s->voice, ...)`` reopens it, g_realloc())
            return ""
        fn = facts.program.functions.get(op.event.function)
        if fn is None or not fn.cfg or _under_negative_test(fn, op.event.site) \
                or _once(facts.program, op.event):
            return ""
        return (f"{op.event.via[0]}() runs while the device is realized (a reset, a guest request) and "
                f"acquires it again each time, over what the last run acquired")
    return ""


def _under_negative_test(fn, site) -> bool:
    """The call runs only in the then-branch of a test that the value it
    stores is NULL (``if (!s->t) { s->t = f(...); }``)."""
    if site.result is None:
        return False
    node = next((i for i, n in enumerate(fn.cfg) if ("c", site.index) in n.ops), None)
    if node is None:
        return False
    key = site.result.key()
    for c, cond in enumerate(fn.cfg):
        if not cond.test.startswith("!") or cond.test_path is None or cond.test_path.key() != key:
            continue
        if _reaches(fn.cfg, cond.then, node, avoid=None) and not _reaches(fn.cfg, (0,), node, avoid=c):
            return True
    return False


def _once(program, ev) -> bool:
    """The call, or a call that led to it, runs only in the then-branch
    of a test that a field is not set (``if (!gl->renderer_inited) {
    virtio_gpu_virgl_init(g); gl->renderer_inited = true; }``): code that
    sets something up once, not on every run."""
    for key, index in ev.frames:
        fn = program.functions.get(key)
        if fn is None or not fn.cfg:
            continue
        node = next((i for i, n in enumerate(fn.cfg) if ("c", index) in n.ops), None)
        if node is None:
            continue
        for c, cond in enumerate(fn.cfg):
            if cond.test.startswith("!") and cond.test_path is not None and cond.test_path.steps \
                    and _reaches(fn.cfg, cond.then, node, avoid=None) and not _reaches(fn.cfg, (0,), node, avoid=c):
                return True
    return False


def _reaches(cfg, starts, target: int, avoid) -> bool:
    seen, todo = set(), [s for s in starts if s != avoid]
    while todo:
        n = todo.pop()
        if n == target:
            return True
        if n in seen:
            continue
        seen.add(n)
        todo.extend(s for s in cfg[n].succ if s != avoid)
    return False


def _disarmed(facts: Facts, dev: DeviceType, f: Finding) -> bool:
    """A disarm call of the family (timer_del()) on the resource in a
    teardown phase: what is left is memory, not a live registration."""
    ops = facts.device(dev).ops
    return any(op.role == "disarm" and op.family == f.family and describe_op(op) == f.resource
               for phase in TEARDOWN for op in ops.get(phase, ()))
