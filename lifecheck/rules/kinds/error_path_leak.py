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
from ...facts.errorflow import error_exit_leaks
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
    out = []
    for ref in dev.hooks.get("realize", ()):
        fn = program.functions.get(ref.function)
        if fn is None or not fn.cfg:
            continue
        by_top: Dict[int, List[Op]] = {}
        for op in device.ops["realize"]:
            fr = op.event.frames
            if fr and fr[0][0] == ref.function:
                by_top.setdefault(fr[0][1], []).append(op)
        leaks = error_exit_leaks(fn, lambda idx: by_top.get(idx, ()), chosen, ("self", "global"),
                                 on_self=True, never_set=lambda p: program.never_set(dev, p))
        for (fam, key, op), ret_line in sorted(leaks.items(), key=lambda kv: (kv[0][2].event.site.loc, kv[0][1])):
            if (fam, key) in finalize_released or (fam, ALL) in finalize_released \
                    or device.not_ours(key, children=False) or device.self_contained(op):
                continue
            if op.path is not None and device.handed_off(["instance_finalize"], op.path):
                continue
            out.append(_finding(facts, spec, dev, fn, op, ret_line))
    return out


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
        leaks = error_exit_leaks(fn, lambda idx: events.get(idx, ()), chosen, ("local",))
        for (fam, rkey, op), ret_line in sorted(leaks.items(), key=lambda kv: (kv[0][2].event.site.loc, kv[0][1])):
            local = fn.locals.get(rkey.split(":", 1)[1].split(".")[0])
            if local is not None and local.cleanup:
                continue
            out.append(_finding(facts, spec, None, fn, op, ret_line))
    return out


def _bare_event(key, site) -> Event:
    return Event("realize", site, key, site.args, site.result, (key[1],), ((key, site.index),))


def _finding(facts: Facts, spec: RuleSpec, dev: Optional[DeviceType], fn: Function, op: Op,
             ret_line: int) -> Finding:
    ev = op.event
    ret_loc = Location(fn.loc.file, ret_line, 1)
    return Finding(
        rule=spec.slug, severity=severity(facts, spec, dev, op.family), mined=mined(facts, op.family), family=op.family,
        loc=ev.site.loc,
        message=spec.message(resource=describe_op(op), what=family_summary(facts, op.family),
                             call=ev.site.callee, function=fn.name, return_line=ret_line,
                             releases=release_names(facts, op.family)),
        function=fn.name, resource=describe_op(op), hook="realize", device=dev.name if dev else "",
        related=(RelatedLocation(ret_loc, f"error exit of {fn.name}() that leaves "
                                          f"{describe_op(op)} behind", "error-exit"),),
        shape=KIND.shape)


KIND = Kind(
    name="error-path-leak",
    summary="acquired on a path that leaves through an error exit without releasing it",
    config=ErrorPathLeakConfig,
    shape="error-exit-leak",
    placeholders=frozenset({"resource", "what", "call", "function", "return_line", "releases"}),
    check_device=check,
    check_program=check_program,
)
