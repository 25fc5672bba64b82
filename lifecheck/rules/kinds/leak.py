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


def _handed_to_request(facts: Facts, dev: DeviceType, op) -> bool:
    """What ``op`` acquired is the opaque of a request the same function
    makes (a one-shot BH, an AIO), whose completion releases it: a
    reference taken for the request and dropped when it completes
    (``object_ref(obj); aio_bh_schedule_oneshot(ctx, cb, obj)`` with
    ``object_unref()`` in cb)."""
    if facts.reach is None or op.key is None:
        return False
    for req in facts.reach.requests(dev):
        if req.carrier or req.within != op.event.function[1] or req.opaque.key() != op.key \
                or req.callback not in facts.program.functions:
            continue
        if (op.family, req.opaque_param, "") in facts.summaries.param_releases(req.callback):
            return True
    return False


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: LeakConfig = spec.config
    device = facts.device(dev)
    chosen = families(facts, cfg.families, cfg.exclude_families)
    for trait in cfg.exclude_traits:
        chosen -= facts.api.with_trait(trait)
    release_phases = cfg.release_phases
    # what teardown releases itself, through the runtime hooks it runs
    # (virtio_set_status(vdev, 0)), and through pointers to the device's
    # own objects (``n->sq[0] = &n->admin_sq``)
    released = device.through_aliases(device.released(release_phases) | device.hook_releases(release_phases))
    # releases in the acquiring phases (but not those only an error exit
    # makes: they do not release what a successful phase keeps) count as
    # ``_releases`` says -- except for in-place ones: timer_del() of an
    # embedded timer at run time only stops it until the next timer_mod()
    in_place = facts.api.with_trait("in-place")
    acquiring = [p for p in cfg.acquire_phases if p not in release_phases]
    released_by: dict = {}
    for op in device.release_ops(acquiring, facts.order):
        if op.family in in_place:
            continue
        released_by.setdefault((op.family, op.key), []).append(op)
        if "all" in op.attrs:
            released_by.setdefault((op.family, ALL), []).append(op)
    # a handle that is not kept (virtio_add_queue()'s result) cannot be
    # matched by name: any release of its family counts
    families_released = {fam for fam, _ in released} | {fam for fam, _ in released_by}

    def released_after(acq, key) -> bool:
        return any(_releases(facts, dev, rel, acq) for rel in released_by.get(key, ()))

    out = []
    for phase in cfg.acquire_phases + cfg.in_place_phases:
        for op in device.ops[phase]:
            if op.role != "acquire" or op.family not in chosen or not root_allowed(op.path, cfg.roots, op.attrs):
                continue
            if phase in cfg.in_place_phases and phase not in cfg.acquire_phases and op.family not in in_place:
                continue
            if op.path is None and not op.event.site.discarded:
                continue  # the value is passed on (foo(g_strdup(x))): not ours to track
            if op.key is not None and ((op.family, op.key) in released or (op.family, ALL) in released
                                       or released_after(op, (op.family, op.key))
                                       or released_after(op, (op.family, ALL))):
                continue
            if op.key is None and op.family in families_released:
                continue
            if device.not_ours(op.key) or device.self_contained(op):
                continue
            if op.key is not None and "{}" in op.key and phase == "runtime" and facts.runtime.entry_of(dev, op.event) is not None:
                # a callback's request taken off a queue (``req =
                # QTAILQ_FIRST(&sq->req_list); req->sg = g_malloc0(...)``):
                # per-request state its completion releases, under another
                # name (the array that holds the requests, another queue)
                continue
            if op.path is not None and device.handed_off(list(release_phases), op.path):
                continue
            if device.kept_by(op) is not None:
                continue  # a resource it made keeps it and releases it (a request's hba_private)
            if _handed_to_request(facts, dev, op):
                continue  # object_ref() for a one-shot BH whose callback drops it
            ev = op.event
            entry = facts.runtime.entry_of(dev, ev) if phase == "runtime" else None
            if entry is not None:
                # a callback or property setter, not a hook (facts/runtime.py)
                related = [RelatedLocation(facts.program.functions[entry.function].loc,
                                           f"{entry.function[1]}() runs while {dev.name} is realized: "
                                           f"{entry.how}", "hook")]
            else:
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


def _releases(facts: Facts, dev: DeviceType, release, acquire) -> bool:
    """A release made in an acquiring phase releases what ``acquire``
    keeps.  The runtime hooks (reset, set_status) are the framework's:
    it runs them after every realize (the hot-plugged device's too) and
    with the arguments that stop the device, so what one releases counts
    for what realize or a runtime hook keeps, as what realize itself
    releases does (a buffer it frees again), unless it runs before the
    acquisition on its path (``g_free(s->name); s->name = g_strdup(v)``).
    Callbacks and property setters (facts/runtime.py) run only when the
    guest or the user makes them: what one releases counts only for
    what is acquired before it on the same run (``buf = g_malloc(n);
    ...; g_free(buf)``), and for what one acquires nothing else does:
    a release on another path (``if (value == 0) { timer_free(s->t);
    return; }``) or in other code releases what an earlier run kept."""
    first, second = release.event, acquire.event
    entries = facts.runtime
    released_in_entry = first.phase == "runtime" and entries.entry_of(dev, first) is not None
    acquired_in_entry = second.phase == "runtime" and entries.entry_of(dev, second) is not None
    if released_in_entry or acquired_in_entry:
        return first.phase == second.phase and facts.order.after(second, first)
    if first.phase != second.phase:
        return True
    return not (facts.order.after(first, second) and not facts.order.after(second, first))


KIND = Kind(
    name="leak",
    summary="acquired in some phases, released in none of the phases that must release it",
    config=LeakConfig,
    shape="missing-release",
    placeholders=frozenset({"resource", "what", "call", "phase", "device", "release_phase", "releases"}),
    check_device=check,
)
