"""Kind ``missing-release``: a resource acquired in some phases of a device
has no release of the same family and resource in the phases that must
release it, optionally only when it was registered into a container
outside the device (subregion-not-deleted)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Set, Tuple

from ...facts import Facts
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType
from ...model import CALL, GLOBAL, SELF
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, hook_loc, mined, severity


@dataclass(frozen=True)
class MissingReleaseConfig(RuleConfig):
    families: Tuple[str, ...] = field(default=(), metadata=meta(
        "family", "the API families whose acquisitions must be released"))
    acquire_phases: Tuple[str, ...] = field(default=("realize",), metadata=meta(
        "phase", "where the acquisitions are looked for"))
    release_phases: Tuple[str, ...] = field(default=("unrealize",), metadata=meta(
        "phase", "where a release must be; the first is named in the message"))
    resource_filter: str = field(default="", metadata=meta(
        "resource-filter", "only acquisitions whose container lies outside the device"))
    device_filter: str = field(default="", metadata=meta(
        "device-filter", "finalize-deferred: only devices whose instance_finalize waits for RCU "
        "after unplug (they own memory regions, or their bus core gives them some), so that the main "
        "loop runs between unrealize and finalize"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: MissingReleaseConfig = spec.config
    device = facts.device(dev)
    api = facts.api
    if cfg.device_filter == "finalize-deferred" and not device.finalize_deferred:
        return []
    families = set(cfg.families)
    # what each call does, from the API table (a call whose arguments make
    # it another entry, if_args, is that entry: qemu_chr_fe_set_handlers()
    # with NULL handlers removes them)
    released: Set[str] = set()
    for phase in cfg.release_phases:
        for ev in device.events[phase]:
            for op in api.effects(ev):
                if op.role == "release" and op.family in families and op.path is not None:
                    released.add(op.path.key())
    release_phase = cfg.release_phases[0]
    out = []
    for phase in cfg.acquire_phases:
        for ev in device.events[phase]:
            for fam in cfg.families:
                ops = [op for op in api.effects(ev) if op.role == "acquire" and op.family == fam
                       and "returned" not in op.attrs]
                call = api.lookup(ev.site.callee, fam, "acquire") if ops else None
                if call is None:
                    continue
                path = ops[0].path
                if path is None or path.key() in released:
                    continue
                container = ev.args[call.container] \
                    if call.container is not None and call.container < len(ev.args) else None
                if cfg.resource_filter == "container-outside-device":
                    if device.container_outside(container.path if container else None) is not True:
                        continue
                release_loc = hook_loc(facts.program, dev, release_phase)
                related = [RelatedLocation(hook_loc(facts.program, dev, phase) or ev.site.loc,
                                           f"{phase} hook of {dev.name}", "hook")]
                if release_loc is not None:
                    related.append(RelatedLocation(release_loc, f"{release_phase} of {dev.name} does not "
                                                   f"release {path}", "missing-release"))
                else:
                    related.append(RelatedLocation(dev.record.loc, f"{dev.name} has no {release_phase} hook",
                                                   "missing-release"))
                out.append(Finding(
                    rule=spec.slug, severity=severity(facts, spec, dev, fam), mined=mined(facts, fam), family=fam,
                    loc=ev.site.loc,
                    message=spec.message(resource=str(path), container=describe_expr(container),
                                         phase=phase, device=dev.name, function=ev.function[1],
                                         release_phase=release_phase),
                    function=ev.function[1], resource=str(path), hook=phase, device=dev.name,
                    related=tuple(related), shape=KIND.shape, expected_phases=cfg.release_phases))
    return out


def describe_expr(expr) -> str:
    """A container as the user knows it: ``get_system_memory()``,
    ``self.parent_mr``, or the C text when it has no path."""
    if expr is None:
        return "?"
    if expr.path is not None and (expr.path.root == SELF or expr.path.root_kind in (CALL, GLOBAL)):
        return str(expr.path)
    return expr.text


KIND = Kind(
    name="missing-release",
    summary="acquired in some phases, not released in the phases that must release it",
    config=MissingReleaseConfig,
    shape="missing-release",
    placeholders=frozenset({"resource", "container", "phase", "device", "function", "release_phase"}),
    check_device=check,
)
