"""Kind ``double-release``: along one teardown (unrealize, then
instance_finalize), a resource released twice with nothing cleared in
between."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Set, Tuple

from ...facts import Facts
from ...facts.api import Op
from ...facts.device import lead_type
from ...facts.errorflow import failure_double_releases
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType
from ...model import SELF, Location
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, families, mined, severity
from .teardown import TEARDOWN, teardown_releases


@dataclass(frozen=True)
class DoubleReleaseConfig(RuleConfig):
    families: Optional[Tuple[str, ...]] = field(default=None, metadata=meta(
        "family-set", "families checked (\"must_release\": every family marked so)"))
    exclude_families: Tuple[str, ...] = field(default=(), metadata=meta("family", "families left out"))
    dropped_families: Tuple[str, ...] = field(default=(), metadata=meta(
        "family", "reference families whose release in teardown drops a reference the device "
                  "gave up already in realize (qdev_realize_and_unref() then object_unref())"))
    dropped_message: str = field(default="", metadata=meta(
        "message", "the message of a release of a reference given up in realize"))
    failure_message: str = field(default="", metadata=meta(
        "message", "the message of a release, on an acquire call's failure branch, of what the "
                   "failing call released itself (rules/api on_failure.releases); none: not checked"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: DoubleReleaseConfig = spec.config
    device = facts.device(dev)
    order = facts.order
    # a registration made for the device itself (pcie_aer_init(dev),
    # virtio_init(vdev)) is released twice as surely as one held in a field
    ops = teardown_releases(facts, dev, families(facts, cfg.families, cfg.exclude_families), itself=True)
    out = []
    reported: Set[Tuple[str, Location]] = set()
    for i, first in enumerate(ops):
        if "clears" in first.attrs:
            continue    # g_clear_pointer(): the second release sees NULL
        for second in ops[i + 1:] + ops[:i]:
            if second.event is first.event or second.key != first.key:
                continue
            if second.family != first.family or "idempotent" in second.attrs:
                continue    # an idempotent call finds nothing to do the second time
            if "{}" in first.key or ("[]" in first.key and first.event.phase == second.event.phase):
                continue  # a loop over elements releases each once
            if not order.after(first.event, second.event) or device.cleared(first.key, TEARDOWN):
                continue
            types = {lead_type(facts.program, op.event, _arg_of(op)) for op in (first, second)}
            if len(types) > 1 and None not in types:
                continue  # reached through two struct types: two fields that share a name
            if (first.key, second.event.site.loc) in reported:
                continue
            reported.add((first.key, second.event.site.loc))
            ev = second.event
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev, second.family),
                mined=mined(facts, second.family), family=second.family, loc=ev.site.loc,
                message=spec.message(resource=str(second.path), call=ev.site.callee,
                                     first_call=first.event.site.callee, first_phase=first.event.phase,
                                     first_line=first.event.site.loc.line, phase=ev.phase,
                                     device=dev.name),
                function=ev.function[1], resource=str(second.path), hook=ev.phase, device=dev.name,
                related=(RelatedLocation(first.event.site.loc,
                                         f"{first.path} is first released here ({first.event.phase})",
                                         "release"),),
                shape=KIND.shape))
    out.extend(_dropped_in_realize(facts, spec, dev, cfg, reported))
    out.extend(_released_by_failure(facts, spec, dev, cfg))
    return out


def _released_by_failure(facts: Facts, spec: RuleSpec, dev: DeviceType,
                         cfg: DoubleReleaseConfig) -> List[Finding]:
    """In realize: a release, on the failure branch of an acquire call,
    of what that call's own failure released already (rules/api
    ``on_failure``: vhost_dev_init() failing has closed the descriptor it
    was handed; ``close(vhostfd)`` on its error path closes it again)."""
    if not cfg.failure_message:
        return []
    device = facts.device(dev)
    out = []
    for ref in dev.hooks.get("realize", ()):
        fn = facts.program.functions.get(ref.function)
        if fn is None or not fn.cfg:
            continue
        by_call: dict = {}
        for op in device.ops["realize"]:
            if op.event.frames and op.event.frames[0][0] == ref.function:
                by_call.setdefault(op.event.frames[0][1], []).append(op)
        for first, second in failure_double_releases(fn, lambda i: by_call.get(i, ())):
            ev = second.event
            values = dict(resource=str(second.path), call=ev.site.callee, first_call=first.event.site.callee,
                          first_phase="realize", first_line=first.event.site.loc.line, phase="realize",
                          device=dev.name)
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev, second.family),
                mined=mined(facts, second.family), family=second.family, loc=ev.site.loc,
                message=cfg.failure_message.format(**values),
                function=ev.function[1], resource=str(second.path), hook="realize", device=dev.name,
                related=(RelatedLocation(first.event.site.loc,
                                         f"{first.event.site.callee}() releases {second.path} when it fails",
                                         "release"),),
                shape=KIND.shape))
    return out


def _dropped_in_realize(facts: Facts, spec: RuleSpec, dev: DeviceType, cfg: DoubleReleaseConfig,
                        reported: Set[Tuple[str, Location]]) -> List[Finding]:
    """A teardown release of a reference (``object_unref(s->child)``) that
    the device gave up on realize's success path already
    (``qdev_realize_and_unref(child)``, ``object_unref(child)`` after
    making it) with no new reference taken (``object_ref``) afterwards:
    what holds the object now is its parent and its bus, and the extra
    unref frees it under them."""
    if not cfg.dropped_families:
        return []
    device = facts.device(dev)
    order = facts.order
    chosen = set(cfg.dropped_families)
    # a local of realize stored into a field (``lu->scsi_dev = SCSI_DEVICE(d)``)
    # names that field: (function, local key) -> field key
    stored = {}
    for st in facts.program.stores(dev, "realize"):
        rhs = st.rhs.path
        if st.lhs is not None and st.lhs.root == SELF and rhs is not None and rhs.root.startswith("local:") \
                and not rhs.steps:
            stored.setdefault((st.function, rhs.key()), st.lhs.key())
    dropped = {}
    for op in device.ops["realize"]:
        if op.role != "release" or op.family not in chosen or op.key is None or op.path is None \
                or order.on_error_path(op.event):
            continue
        key = op.key if op.path.root == SELF else stored.get((op.event.function, op.key))
        if key is None:
            continue
        later = [a for a in device.ops["realize"] if a.role == "acquire" and a.family in chosen
                 and a.key in (op.key, key) and order.after(op.event, a.event)]
        if not later:
            dropped.setdefault(key, op)
    out = []
    for phase in TEARDOWN:
        for op in device.ops[phase]:
            first = dropped.get(op.key or "")
            if op.role != "release" or op.family not in chosen or first is None:
                continue
            if op.event.site.callee == first.event.site.callee and phase == "realize":
                continue
            if (op.key, op.event.site.loc) in reported:
                continue
            reported.add((op.key, op.event.site.loc))
            ev = op.event
            values = dict(resource=str(op.path), call=ev.site.callee, first_call=first.event.site.callee,
                          first_phase="realize", first_line=first.event.site.loc.line, phase=phase,
                          device=dev.name)
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev, op.family),
                mined=mined(facts, op.family), family=op.family, loc=ev.site.loc,
                message=(cfg.dropped_message or spec.config.message).format(**values),
                function=ev.function[1], resource=str(op.path), hook=phase, device=dev.name,
                related=(RelatedLocation(first.event.site.loc,
                                         f"the device's reference on {first.path} is dropped here (realize)",
                                         "release"),),
                shape=KIND.shape))
    return out


KIND = Kind(
    name="double-release",
    summary="released twice along one teardown",
    config=DoubleReleaseConfig,
    shape="second-release",
    placeholders=frozenset({"resource", "call", "first_call", "first_phase", "first_line", "phase", "device"}),
    check_device=check,
)


def _arg_of(op: Op) -> int:
    """The argument of the release call that is the resource."""
    return next((i for i, a in enumerate(op.event.args) if a.path is not None and a.path == op.path), 0)
