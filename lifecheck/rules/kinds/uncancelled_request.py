"""Kind ``uncancelled-request``: a request the device hands to a backend
or an asynchronous engine, with itself as the completion's opaque, that
no call of the teardown cancels or drains (request-not-cancelled).

The requests and their cut-offs are data (rules/tables/callbacks.toml,
``request = true`` and [[cutoff]]); what a request is made from (a
lifecycle phase, or one of the device's callbacks: a virtqueue handler)
comes from facts/reach.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Set, Tuple

from ...facts import Facts
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType
from ...model import SELF
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, hook_loc, severity


@dataclass(frozen=True)
class UncancelledRequestConfig(RuleConfig):
    cancel_phases: Tuple[str, ...] = field(default=("unrealize",), metadata=meta(
        "phase", "where a cancel or drain of the request must be; the first is named in the message"))
    reference_families: Tuple[str, ...] = field(default=(), metadata=meta(
        "family", "a completion that releases a reference of these families on its opaque was "
        "handed one: the request keeps the device alive until it completes (object_ref() "
        "before the request, object_unref() in the callback)"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: UncancelledRequestConfig = spec.config
    reach = facts.reach
    if reach is None:
        return []
    device = facts.device(dev)
    phase = cfg.cancel_phases[0]
    out: List[Finding] = []
    seen: Set[Tuple[str, int, str]] = set()
    for reg in reach.requests(dev):
        k = (reg.loc.file, reg.loc.line, reg.name)
        if k in seen:
            continue
        seen.add(k)
        if device.request_cutoff(reg, cfg.cancel_phases) is not None:
            continue
        if _holds_reference(facts, reg, cfg.reference_families):
            continue
        related = []
        ref = hook_loc(facts.program, dev, phase)
        if ref is not None:
            related.append(RelatedLocation(ref, f"{phase} of {dev.name} does not cancel or drain it", "missing-release"))
        else:
            related.append(RelatedLocation(dev.record.loc, f"{dev.name} has no {phase} hook", "missing-release"))
        if reg.parent is not None:
            root = reg.root
            slot = f" as {root.slot}" if root.slot else ""
            related.append(RelatedLocation(root.loc, f"the request is made from {root.name}(), registered here{slot} "
                                           f"with {root.call}()", "callback"))
        opaque = str(reg.opaque) if reg.opaque.steps else "the device"
        if reg.carrier:
            opaque = f"a request that points to the device ({reg.carrier})"
        values = dict(callback=reg.name, call=reg.call, resource=opaque, device=dev.name,
                      function=reg.within or "?", phase=phase)
        out.append(Finding(
            rule=spec.slug, severity=severity(facts, spec, dev), loc=reg.loc,
            message=spec.message(**values), function=reg.within, resource=_resource(reg),
            hook=reg.event.phase if reg.event is not None else "runtime", device=dev.name,
            related=tuple(related), shape=KIND.shape, expected_phases=cfg.cancel_phases))
    return out


def _holds_reference(facts: Facts, reg, families: Tuple[str, ...]) -> bool:
    """The completion drops a reference on its opaque (itself or through
    the helpers it passes it to): the request was given one, so the
    device outlives it."""
    if not families or reg.carrier or reg.callback not in facts.program.functions:
        return False
    return any(fam in families and index == reg.opaque_param and not below
               for fam, index, below in facts.summaries.param_releases(reg.callback))


def _resource(reg) -> str:
    """What the finding is about: the handle the request is made on or
    kept in, when the device holds it (``self.rng``, the AIOCB field),
    else the opaque."""
    if reg.handle is not None and reg.handle.root == SELF and reg.handle.steps:
        return str(reg.handle)
    return str(reg.opaque)


KIND = Kind(
    name="uncancelled-request",
    summary="a request made with the device as its completion's opaque, cancelled or drained by no teardown call",
    config=UncancelledRequestConfig,
    shape="missing-release",
    placeholders=frozenset({"callback", "call", "resource", "device", "function", "phase"}),
    check_device=check,
)
