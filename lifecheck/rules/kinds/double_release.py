"""Kind ``double-release``: along one teardown (unrealize, then
instance_finalize), a resource released twice with nothing cleared in
between."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Set, Tuple

from ...facts import Facts
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType
from ...model import Location
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, families, mined, severity
from .teardown import TEARDOWN, teardown_releases


@dataclass(frozen=True)
class DoubleReleaseConfig(RuleConfig):
    families: Optional[Tuple[str, ...]] = field(default=None, metadata=meta(
        "family-set", "families checked (\"must_release\": every family marked so)"))
    exclude_families: Tuple[str, ...] = field(default=(), metadata=meta("family", "families left out"))


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
            if (first.key, second.event.site.loc) in reported:
                continue
            reported.add((first.key, second.event.site.loc))
            ev = second.event
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev, second.family),
                mined=mined(facts, second.family), loc=ev.site.loc,
                message=spec.message(resource=str(second.path), call=ev.site.callee,
                                     first_call=first.event.site.callee, first_phase=first.event.phase,
                                     first_line=first.event.site.loc.line, phase=ev.phase,
                                     device=dev.name),
                function=ev.function[1], resource=str(second.path), hook=ev.phase, device=dev.name,
                related=(RelatedLocation(first.event.site.loc,
                                         f"{first.path} is first released here ({first.event.phase})",
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
