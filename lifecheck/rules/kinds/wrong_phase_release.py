"""Kind ``wrong-phase-release``: a release made in a phase where it does
not belong (freed-in-unrealize, del-subregion-in-finalize,
unparent-in-finalize, unowned-region-unparent)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Set, Tuple

from ...facts import Facts
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, hook_loc, mined, severity


@dataclass(frozen=True)
class Match:
    """Which releases are out of place."""

    family: str = field(metadata=meta("family", "the API family of the release"))
    resource_is: str = field(default="any", metadata=meta(
        "resource-predicate", "what the released resource must be"))
    functions: Tuple[str, ...] = field(default=(), metadata=meta(
        "api-function", "only these release functions (default: all of the family)"))
    message: str = field(default="", metadata=meta(
        "message", "the message of this match's findings (default: the rule's)"))


@dataclass(frozen=True)
class WrongPhaseReleaseConfig(RuleConfig):
    phases: Tuple[str, ...] = field(default=(), metadata=meta(
        "phase", "the phases where the release does not belong"))
    unless_released_in: Tuple[str, ...] = field(default=(), metadata=meta(
        "phase", "no finding when the same resource is also released in one of these"))
    match: Tuple[Match, ...] = field(default=(), metadata=meta("", "the releases to report"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: WrongPhaseReleaseConfig = spec.config
    device = facts.device(dev)
    api = facts.api
    out = []
    reported: Set[int] = set()   # events an earlier match reported
    for m in cfg.match:
        also_released: Set[str] = set()
        for other in cfg.unless_released_in:
            for ev in device.events[other]:
                call = api.lookup(ev.site.callee, m.family, "release")
                path = ev.arg_path(call.resource) if call else None
                if path is not None:
                    also_released.add(path.key())
        only = set(m.functions)
        for ev in [e for phase in cfg.phases for e in device.events[phase]]:
            phase = ev.phase
            call = api.lookup(ev.site.callee, m.family, "release")
            if call is None or (only and ev.site.callee not in only):
                continue
            path = ev.arg_path(call.resource)
            if path is None or path.key() in also_released:
                continue
            if id(ev) in reported or not device.resource_matches(m.resource_is, path, ev):
                continue
            reported.add(id(ev))
            related = [RelatedLocation(hook_loc(facts.program, dev, phase) or ev.site.loc,
                                       f"{phase} hook of {dev.name}", "hook")]
            region = device.regions.get(path.key())
            if region is not None:
                related.append(RelatedLocation(region[1].site.loc, f"{path} is created here", "acquire"))
            callback = access = ""
            level = severity(facts, spec, dev, m.family)
            if m.resource_is == "reached-async":
                users = device.async_users(path, ev)
                reg, acc = users[0]
                callback = reg.name
                access = str(acc.path)
                early = {id(r): device.earlier_cutoff(r, ev) for r, _ in users}
                late_of = {id(r): device.later_cutoff(r, ev) for r, _ in users}
                concurrent = {id(r) for r, _ in users if device.concurrent(r)}
                if level == "error" and all((late_of[id(r)] is not None and id(r) not in concurrent)
                                            or early[id(r)] is not None for r, _ in users):
                    # every callback is cut off before the phase ends (the
                    # order is wrong, but a callback serialised with the
                    # teardown (BQL) finds no window), or before the release
                    # and only a request already in flight can still call it
                    level = "warning"
                for reg, acc in users[:3]:
                    chain = " -> ".join(acc.via)
                    slot = f" as {reg.slot}" if reg.slot else ""
                    role = "callback"
                    if reg.call == "instance_finalize":
                        text, role = f"{reg.name}() runs at instance_finalize, after unrealize", "finalize"
                    elif reg.event is None and reg.parent is None and reg.slot:
                        text = f"{reg.name}() is called from {reg.slot} on the device plugged into the bus"
                    else:
                        text = f"{reg.name}() is registered here{slot} with {reg.call}()"
                    related.append(RelatedLocation(reg.loc, text, role))
                    related.append(RelatedLocation(acc.loc, f"{chain} touches {acc.path}", "use"))
                    first = early[id(reg)]
                    if first is not None:
                        where = first.site.loc if not isinstance(first, str) else reg.loc
                        how = f"{first.site.callee}()" if not isinstance(first, str) else f"the framework before {first}"
                        related.append(RelatedLocation(where, f"{reg.name}() is cut off before the release ({how}), "
                                                       "but a request already in flight can still call it",
                                                       "inflight"))
                        continue
                    late = late_of[id(reg)]
                    if late is not None:
                        # a thread of its own runs in between: not only the order is wrong
                        role = "late-cutoff" if id(reg) in concurrent else "cutoff"
                        related.append(RelatedLocation(late.site.loc, f"{reg.name}() is cut off only here, "
                                                       f"after the release ({late.site.callee}())", role))
            values = dict(resource=str(path), phase=phase, device=dev.name, function=ev.function[1],
                          call=ev.site.callee, callback=callback, access=access)
            out.append(Finding(
                rule=spec.slug, severity=level, mined=mined(facts, m.family), family=m.family,
                loc=ev.site.loc,
                message=(m.message.format(**values) if m.message else spec.message(**values)),
                function=ev.function[1], resource=str(path), hook=phase, device=dev.name,
                related=tuple(related), shape=KIND.shape))
    return out


KIND = Kind(
    name="wrong-phase-release",
    summary="a release made in a phase where it does not belong",
    config=WrongPhaseReleaseConfig,
    shape="misplaced-release",
    placeholders=frozenset({"resource", "phase", "device", "function", "call", "callback", "access"}),
    check_device=check,
)
