"""Kind ``leak``: acquired in some phases (realize, instance_init) and
released in none of the phases that must release it (leak-on-unrealize,
init-leak).

A resource is (API family, access path key).  Calls lifecheck cannot see
into that receive the resource (or the object holding it) during the
releasing phases count as a possible release: a leak is only reported when
no code that could release it was found.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from ...facts import Facts
from ...facts.api import ALL, root_allowed
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, describe_op, families, family_summary, hook_loc, mined, release_names, severity

TEARDOWN = ("unrealize", "instance_finalize")


@dataclass(frozen=True)
class LeakConfig(RuleConfig):
    families: Optional[Tuple[str, ...]] = field(default=None, metadata=meta(
        "family-set", "the API families to check (\"must_release\": every family marked so)"))
    exclude_families: Tuple[str, ...] = field(default=(), metadata=meta(
        "family", "families left to other rules"))
    acquire_phases: Tuple[str, ...] = field(default=("realize",), metadata=meta(
        "phase", "where the acquisitions are looked for"))
    release_phases: Tuple[str, ...] = field(default=TEARDOWN, metadata=meta(
        "phase", "where a release may be; the first is named in the message"))
    roots: Tuple[str, ...] = field(default=("self",), metadata=meta(
        "root", "where the resource may be held"))
    exclude_traits: Tuple[str, ...] = field(default=(), metadata=meta(
        "trait", "families with any of these traits are left out (init-leak: an in-place "
                 "resource owns no memory, so nothing leaks when the object is never realized)"))
    in_place_phases: Tuple[str, ...] = field(default=(), metadata=meta(
        "phase", "phases whose acquisitions count only for in-place families: set up there, "
                 "they become live once the device is realized (an embedded timer initialised "
                 "in instance_init and armed at run time)"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: LeakConfig = spec.config
    device = facts.device(dev)
    chosen = families(facts, cfg.families, cfg.exclude_families)
    for trait in cfg.exclude_traits:
        chosen -= facts.api.with_trait(trait)
    release_phases = cfg.release_phases
    # releases in the acquiring phases count too (a buffer realize frees
    # again), but not those only an error exit makes: they do not release
    # what a successful realize keeps
    # -- except for in-place ones: timer_del() of an embedded timer at run
    # time only stops it until the next timer_mod()
    in_place = facts.api.with_trait("in-place")
    released = device.released(release_phases) | {r for r in device.released(
        [p for p in cfg.acquire_phases if p not in release_phases], facts.order) if r[0] not in in_place}
    # a handle that is not kept (virtio_add_queue()'s result) cannot be
    # matched by name: any release of its family counts
    families_released = {fam for fam, _ in released}
    out = []
    for phase in cfg.acquire_phases + cfg.in_place_phases:
        for op in device.ops[phase]:
            if op.role != "acquire" or op.family not in chosen or not root_allowed(op.path, cfg.roots, op.attrs):
                continue
            if phase in cfg.in_place_phases and phase not in cfg.acquire_phases and op.family not in in_place:
                continue
            if op.path is None and not op.event.site.discarded:
                continue  # the value is passed on (foo(g_strdup(x))): not ours to track
            if op.key is not None and ((op.family, op.key) in released or (op.family, ALL) in released):
                continue
            if op.key is None and op.family in families_released:
                continue
            if device.not_ours(op.key) or device.self_contained(op):
                continue
            if op.path is not None and device.handed_off(list(release_phases), op.path):
                continue
            ev = op.event
            related = [RelatedLocation(hook_loc(facts.program, dev, phase) or ev.site.loc,
                                       f"{phase} hook of {dev.name}", "hook")]
            for rp in release_phases:
                loc = hook_loc(facts.program, dev, rp)
                if loc is not None:
                    related.append(RelatedLocation(loc, f"{rp} of {dev.name} does not release "
                                                        f"{describe_op(op)}", "missing-release"))
            if len(related) == 1:
                related.append(RelatedLocation(dev.record.loc, f"{dev.name} has no "
                                               f"{' or '.join(release_phases)} hook that releases it",
                                               "missing-release"))
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev, op.family), mined=mined(facts, op.family), family=op.family,
                loc=ev.site.loc,
                message=spec.message(resource=describe_op(op), what=family_summary(facts, op.family),
                                     call=ev.site.callee, phase=phase, device=dev.name,
                                     release_phase=release_phases[0],
                                     releases=release_names(facts, op.family)),
                function=ev.function[1], resource=describe_op(op), hook=phase, device=dev.name,
                related=tuple(related), shape=KIND.shape, expected_phases=release_phases))
    return out


KIND = Kind(
    name="leak",
    summary="acquired in some phases, released in none of the phases that must release it",
    config=LeakConfig,
    shape="missing-release",
    placeholders=frozenset({"resource", "what", "call", "phase", "device", "release_phase", "releases"}),
    check_device=check,
)
