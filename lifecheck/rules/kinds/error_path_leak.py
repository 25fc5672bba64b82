"""Kind ``error-path-leak``: acquired on a path of a function's
control-flow graph that then leaves through an error exit without
releasing it (realize-error-leak).  Runs on the realize hooks of every
device type (resources of the device) and, with ``local_families``, on
every function (objects held in locals)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ...facts import Facts
from ...facts.api import ALL, Op
from ...facts.errorflow import can_fail, error_exit_leaks, unchecked_failures
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType, Event
from ...model import Function, Location
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, describe_op, families, family_summary, mined, release_names, severity


@dataclass(frozen=True)
class ErrorPathLeakConfig(RuleConfig):
    families: Optional[Tuple[str, ...]] = field(default=None, metadata=meta(
        "family-set", "the API families to check (\"must_release\": every family marked so)"))
    exclude_families: Tuple[str, ...] = field(default=(), metadata=meta(
        "family", "families left to other rules"))
    local_families: Tuple[str, ...] = field(default=(), metadata=meta(
        "family", "in every function: these families held in locals"))


def check(facts: Facts, spec: RuleSpec, dev: Optional[DeviceType]) -> List[Finding]:
    """Realize hooks of ``dev``: resources of the device acquired on a path
    that leaves through an error exit unreleased and that
    instance_finalize does not release either (unrealize is not called
    after a failed realize)."""
    if dev is None:
        return []
    cfg: ErrorPathLeakConfig = spec.config
    chosen = families(facts, cfg.families, cfg.exclude_families)
    device = facts.device(dev)
    program = facts.program
    finalize_released = device.released(["instance_finalize"])
    never_set = lambda p: program.never_set(dev, p)  # noqa: E731
    out = []
    for ref in dev.hooks.get("realize", ()):
        fn = program.functions.get(ref.function)
        if fn is None or not fn.cfg:
            continue
        ops = [op for op in device.ops["realize"] if op.event.frames and op.event.frames[0][0] == ref.function]
        helper_exits: Dict[int, Tuple[Function, int]] = {}
        leaks = _flow(facts, dev, fn, 0, ops, chosen, helper_exits, never_set)
        for (fam, key, op), ret_line in sorted(leaks.items(), key=_leak_order):
            if (fam, key) in finalize_released or (fam, ALL) in finalize_released \
                    or device.not_ours(key, children=False) or device.self_contained(op):
                continue
            if op.path is not None and device.handed_off(["instance_finalize"], op.path):
                continue
            helper = helper_exits.get(id(op))
            if helper is not None:
                out.append(_finding(facts, spec, dev, helper[0], op, helper[1], caller=(fn, ret_line)))
            else:
                out.append(_finding(facts, spec, dev, fn, op, ret_line))
    return out


# how deep helpers' own error exits are followed below a realize hook
MAX_HELPER_DEPTH = 6


def _flow(facts: Facts, dev: DeviceType, fn: Function, depth: int, ops: List[Op], chosen, helper_exits,
          never_set) -> Dict[Tuple[str, str, Op], int]:
    """``error_exit_leaks`` of ``fn`` (called at frame ``depth`` of the
    ops' events) over ``ops`` (what the calls it makes do, helpers
    included).  A device helper is not an API: that it undoes its own work
    when it fails is not assumed but checked with the same analysis on its
    own body.  What its error exits leave behind survives its failure in
    the caller (``helper_exits``: id(op) -> the innermost helper and its
    exit), and a release it makes only on its error exits does not release
    what it keeps when it succeeds.  A test of a class callback
    (``if (cdc->unrealize) cdc->unrealize(cdev);``) goes the way the
    class of ``dev`` decides."""
    order = facts.order
    by_call: Dict[int, List[Op]] = {}
    for op in ops:
        by_call.setdefault(op.event.frames[depth][1], []).append(op)
    survivors = set()
    for idx, group in list(by_call.items()):
        inner = [op for op in group if len(op.event.frames) > depth + 1]
        if not inner:
            continue
        helper = facts.program.functions.get(inner[0].event.frames[depth + 1][0])
        if helper is not None and helper.cfg and depth < MAX_HELPER_DEPTH:
            for (_, _, op), line in _flow(facts, dev, helper, depth + 1, inner, chosen, helper_exits,
                                          None).items():
                survivors.add(id(op))
                helper_exits.setdefault(id(op), (helper, line))
        by_call[idx] = [op for op in group if not (op.role == "release" and len(op.event.frames) > depth + 1
                                                    and order.on_error_path(op.event, depth + 1))]
    # realize itself (not a helper, whose caller's test of errp is the
    # exit): a last call that can fail and is not checked is an error exit
    unchecked = frozenset()
    if depth == 0:
        memo: Dict = {}
        unchecked = unchecked_failures(fn, lambda site: can_fail(facts.program, fn, site, memo))
    return error_exit_leaks(fn, lambda i: by_call.get(i, ()), chosen, ("self", "global"),
                            on_self=depth == 0, never_set=never_set if depth == 0 else None,
                            survives=lambda op: id(op) in survivors, failing_exits=depth > 0,
                            unchecked=unchecked, cannot_fail=facts.api.cannot_fail,
                            settled=facts.program.class_tests(dev, fn))


def check_program(facts: Facts, spec: RuleSpec) -> List[Finding]:
    """Every function: objects and timers acquired into locals that an
    error exit leaves behind (``dev = pci_new(); if (!qdev_realize(dev,
    ..., errp)) return NULL;``)."""
    cfg: ErrorPathLeakConfig = spec.config
    chosen = set(cfg.local_families)
    if not chosen:
        return []
    api = facts.api
    out = []
    for key in sorted(facts.program.functions):
        fn = facts.program.functions[key]
        if not fn.cfg or not any(api.acquires(site.callee, chosen) for site in fn.calls):
            continue
        events = {site.index: api.effects_uncached(_bare_event(key, site)) for site in fn.calls}
        leaks = error_exit_leaks(fn, lambda idx: events.get(idx, ()), chosen, ("local",),
                                 cannot_fail=api.cannot_fail)
        for (fam, rkey, op), ret_line in sorted(leaks.items(), key=_leak_order):
            local = fn.locals.get(rkey.split(":", 1)[1].split(".")[0])
            if local is not None and local.cleanup:
                continue
            out.append(_finding(facts, spec, None, fn, op, ret_line))
    return out


def _leak_order(item):
    """A total order of ``error_exit_leaks``' answers: the acquisition's
    place, the resource, the exit, then the calls that led to it.  One
    acquisition reached along two paths of calls (a helper called from
    realize and from another helper) gives two answers that differ only
    there; the engine keeps the first for a place and resource, so the
    order must not be that of a set of ops, which hash by identity
    (memory addresses: another run, or a run with another -j, met them
    in another order)."""
    (fam, key, op), ret_line = item
    return (op.event.site.loc, key, fam, ret_line, op.event.frames)


def _bare_event(key, site) -> Event:
    return Event("realize", site, key, site.args, site.result, (key[1],), ((key, site.index),))


def _finding(facts: Facts, spec: RuleSpec, dev: Optional[DeviceType], fn: Function, op: Op,
             ret_line: int, caller: Optional[Tuple[Function, int]] = None) -> Finding:
    """At the acquisition, like every finding of the kind.  For what a
    helper's own error exit leaves behind (``caller``: the realize hook
    and its exit that pass the failure on), the message names that exit
    of the helper (``fn``, ``ret_line``): by include/qapi/error.h a
    failing function undoes its own work, so the fix belongs there; the
    finding stays where it was when the leak was seen at realize's exit
    (same place, function and fingerprint)."""
    ev = op.event
    ret_loc = Location(fn.loc.file, ret_line, 1)
    related = (RelatedLocation(ret_loc, f"error exit of {fn.name}() that leaves "
                                        f"{describe_op(op)} behind", "error-exit"),)
    function = fn.name
    if caller is not None:
        function = caller[0].name
        related += (RelatedLocation(Location(caller[0].loc.file, caller[1], 1),
                                    f"error exit of {caller[0].name}() after {fn.name}() failed", "error-exit"),)
    return Finding(
        rule=spec.slug, severity=severity(facts, spec, dev, op.family), mined=mined(facts, op.family), family=op.family,
        loc=ev.site.loc,
        message=spec.message(resource=describe_op(op), what=family_summary(facts, op.family),
                             call=ev.site.callee, function=fn.name, return_line=ret_line,
                             releases=release_names(facts, op.family)),
        function=function, resource=describe_op(op), hook="realize", device=dev.name if dev else "",
        related=related, shape=KIND.shape)


KIND = Kind(
    name="error-path-leak",
    summary="acquired on a path that leaves through an error exit without releasing it",
    config=ErrorPathLeakConfig,
    shape="error-exit-leak",
    placeholders=frozenset({"resource", "what", "call", "function", "return_line", "releases"}),
    check_device=check,
    check_program=check_program,
)
