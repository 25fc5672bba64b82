"""Kind ``region-owner``: a memory region embedded in the device's own
state, initialised with an owner that is not the device (NULL, which
makes the machine the owner, an object a call returns that lives as long
as the machine, or an object the device only links to).

docs/devel/memory.rst ("Region lifecycle"): the owner is the object the
memory API keeps alive while the region is visible or in use
(memory_region_ref() references the owner, and does nothing for a region
without one), and a region is destroyed when its owner dies, as the
owner's QOM child.  Both premises fail when the region's memory is the
device's and the owner is someone else: the device can be freed while the
owner still holds the region as a child, and while FlatViews and
in-flight accesses hold it without holding the device.

A region the device unparents itself in its teardown is left to
unowned-region-unparent (memory.rst allows that only for aliases and
containers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Set, Tuple

from ...facts import Facts
from ...facts.device import DeviceFacts
from ...findings import Finding, RelatedLocation
from ...graph import PHASES, DeviceType, Event
from ...model import GLOBAL, SELF, Expr
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, severity

DEVICE = "device"


@dataclass(frozen=True)
class RegionOwnerConfig(RuleConfig):
    machine_calls: Tuple[str, ...] = field(default=(), metadata=meta(
        "", "calls that return an object that lives as long as the machine (qdev_get_machine())"))
    owner_of_calls: Tuple[str, ...] = field(default=(), metadata=meta(
        "", "calls that return the owner of the region they are given (memory_region_owner())"))
    teardown_phases: Tuple[str, ...] = field(default=("unrealize", "instance_finalize"), metadata=meta(
        "phase", "phases where a release of the region (object_unparent()) leaves it to other rules"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: RegionOwnerConfig = spec.config
    device = facts.device(dev)
    # destroyed by the device itself (object_unparent()), not only unmapped
    regions = facts.api.with_trait("region")
    released = {key for fam, key in device.released(cfg.teardown_phases) if fam in regions}
    out: List[Finding] = []
    seen: Set[Tuple[object, str]] = set()
    for phase in PHASES:
        for ev in device.events[phase]:
            family, call = _region_init(facts, ev)
            if call is None or call.owner is None or call.owner >= len(ev.args):
                continue
            region = ev.arg_path(call.resource)
            if region is None or region.root != SELF or not region.steps or not region.address_of \
                    or region.crosses_pointer():
                continue   # not memory of the device's own state
            key = region.key()
            if key in released or (ev.function, key) in seen:
                continue
            owner = _owner(facts, cfg, device, ev.args[call.owner], 0)
            if owner is None or owner == DEVICE:
                continue
            seen.add((ev.function, key))
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev, family), family=family,
                loc=ev.site.loc,
                message=spec.message(resource=str(region), call=ev.site.callee, device=dev.name, owner=owner,
                                     phase=phase),
                function=ev.function[1], resource=str(region), hook=phase, device=dev.name,
                related=_related(facts, dev, ev), shape=KIND.shape))
    return out


def _region_init(facts: Facts, ev: Event):
    """(family, call) when ``ev`` initialises a region, else (None, None)."""
    regions = facts.api.with_trait("region")
    for fam, call in facts.api.by_function.get(ev.site.callee or "", ()):
        if fam in regions and call.role == "acquire" and call.applies_to(facts.version):
            return fam, call
    return None, None


def _owner(facts: Facts, cfg: RegionOwnerConfig, device: DeviceFacts, arg: Expr, depth: int) -> Optional[str]:
    """What the owner argument ``arg`` names: DEVICE (the device, or an
    object embedded in or made by it), a description of another object, or
    None when lifecheck cannot tell."""
    if arg.is_null or (arg.kind == "const" and arg.text.strip() == "0"):
        return "NULL (the machine, through /machine/unattached)"
    if arg.kind == "call" and arg.callee in cfg.machine_calls:
        return f"{arg.callee}() (an object that lives as long as the machine)"
    if arg.kind == "call" and arg.callee in cfg.owner_of_calls and arg.args and depth < 3:
        inner = arg.args[0].path
        entry = device.regions.get(inner.key()) if inner is not None else None
        if entry is None:
            return None
        init = entry[1]
        call = facts.api.lookup_trait(init.site.callee, "region", "acquire")
        if call is None or call.owner is None or call.owner >= len(init.args):
            return None
        return _owner(facts, cfg, device, init.args[call.owner], depth + 1)
    path = arg.path
    if path is None:
        return None
    if path.root_kind == GLOBAL:
        return f"the global object {path}"
    if path.root != SELF:
        return None
    key = path.key()
    if not path.steps or (path.address_of and not path.crosses_pointer()):
        return DEVICE      # the device, or an object embedded in its state
    if key in device.links:
        return f"the object the device links to ({path}, a link property)"
    return None   # a pointer the device may have set itself: cannot tell


def _related(facts: Facts, dev: DeviceType, ev: Event) -> Tuple[RelatedLocation, ...]:
    """The device whose memory holds the region: its own instance_finalize
    (after which QOM frees that memory), else its type definition."""
    for ref in dev.hooks.get("instance_finalize", ()):
        fn = facts.program.functions.get(ref.function)
        if fn is not None and ref.function[0] == dev.file:
            return (RelatedLocation(fn.loc, f"{dev.name}'s memory, and the region in it, is freed after "
                                    "this finalize; the region's owner still holds it", "hook"),)
    return (RelatedLocation(dev.record.loc, f"{dev.name}: its memory, and the region in it, is freed "
                            "when it is finalized; the region's owner still holds it", "hook"),)


KIND = Kind(
    name="region-owner",
    summary="a region in the device's own state owned by another object",
    config=RegionOwnerConfig,
    shape="wrong-owner",
    placeholders=frozenset({"resource", "call", "device", "owner", "phase"}),
    check_device=check,
)
