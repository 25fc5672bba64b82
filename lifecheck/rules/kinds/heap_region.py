"""Kind ``heap-region``: a memory region whose memory the device allocates
on the heap into a local (``mr = g_new(MemoryRegion, 1)``), initialises
with an owner and maps, so that nothing of the device can ever free it.
(Allocated into a field, the leak rules report it: leak-on-unrealize,
init-leak.)

A region with an owner is a QOM child of its owner (object_initialize()
plus object_property_add_child()): QOM finalizes it with the owner, but
an object it did not allocate itself it never frees (Object.free is
unset), so the g_new() block leaks with every device.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Tuple

from ...facts import Facts
from ...findings import Finding, RelatedLocation
from ...graph import PHASES, DeviceType
from ...model import LOCAL, key_within
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, severity


@dataclass(frozen=True)
class HeapRegionConfig(RuleConfig):
    region_types: Tuple[str, ...] = field(default=("MemoryRegion",), metadata=meta(
        "", "the C types of the regions (an allocation whose size is sizeof(T) of one of them)"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: HeapRegionConfig = spec.config
    device = facts.device(dev)
    heap = facts.api.with_trait("heap")
    sizes = tuple(f"sizeof({t})" for t in cfg.region_types)
    out = []
    seen = set()
    for phase in PHASES:
        for op in device.ops[phase]:
            if op.role != "acquire" or op.family not in heap or op.key is None or op.path is None \
                    or op.path.root_kind != LOCAL or (op.event.function, op.key) in seen:
                continue
            texts = " ".join(a.text.replace(" ", "") for a in op.event.site.args)
            if not any(s in texts for s in sizes):
                continue
            inits = [(k, attrs, ev) for k, (attrs, ev) in device.regions.items()
                     if (k == op.key or key_within(k, op.key)) and "unowned" not in attrs
                     and ev.function == op.event.function]
            if not inits:
                continue
            seen.add((op.event.function, op.key))
            region_key, _, init = inits[0]
            ev = op.event
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev, op.family), family=op.family, loc=ev.site.loc,
                message=spec.message(resource=str(op.path), call=ev.site.callee, device=dev.name,
                                     init=init.site.callee, phase=phase),
                function=ev.function[1], resource=str(op.path), hook=phase, device=dev.name,
                related=(RelatedLocation(init.site.loc, f"initialised here with {init.site.callee}() and an owner",
                                         "acquire"),),
                shape=KIND.shape))
    return out


KIND = Kind(
    name="heap-region",
    summary="a heap-allocated memory region with an owner that nothing frees",
    config=HeapRegionConfig,
    shape="missing-release",
    placeholders=frozenset({"resource", "call", "device", "init", "phase"}),
    check_device=check,
)
