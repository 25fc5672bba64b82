"""Kind ``deviant-teardown``: what realize acquires with a call whose
other results the device's teardown releases, and that teardown forgets
(deviant-teardown).

The device's own hooks say how to release a value: when realize keeps the
results of ``f()`` in several fields and unrealize or instance_finalize
releases most of them with ``g()``, the ones left are the findings, ordered
by how many the device does release (Engler et al., "Bugs as deviant
behavior", SOSP 2001, applied within one device).  No API table is
needed; functions that rules/api knows are left to the rules that know
them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Set, Tuple

from ...facts import Facts
from ...facts.deviance import looks_like_release
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType, Event
from ...model import SELF, key_within
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, hook_loc, severity
from .deviant_exit import vocabulary


@dataclass(frozen=True)
class DeviantTeardownConfig(RuleConfig):
    acquire_phases: Tuple[str, ...] = field(default=("realize",), metadata=meta(
        "phase", "where the acquisitions are looked for"))
    release_phases: Tuple[str, ...] = field(default=("unrealize", "instance_finalize"), metadata=meta(
        "phase", "where the device releases them"))
    min_evidence: int = field(default=2, metadata=meta(
        "", "how many results of the same call teardown must release"))
    min_share: str = field(default="0.5", metadata=meta(
        "", "the least share of the call's results teardown releases (a decimal)"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: DeviantTeardownConfig = spec.config
    words, known, _ = vocabulary(facts)
    device = facts.device(dev)
    api = facts.api
    quiet = tuple(facts.tables.get("ownership", {}).get("never_release_prefixes", ())) + ("error_", "trace_")
    # what realize keeps in the device, by the call that made it
    kept: Dict[str, Dict[str, Event]] = {}
    for phase in cfg.acquire_phases:
        for ev in device.events[phase]:
            callee = ev.site.callee
            path = ev.result
            if not callee or path is None or path.root != SELF or callee in api.by_function:
                continue
            if callee.startswith(quiet) or looks_like_release(callee, words, known):
                continue
            kept.setdefault(callee, {}).setdefault(path.key(), ev)
    kept = {c: keys for c, keys in kept.items() if len(keys) > cfg.min_evidence}
    if not kept:
        return []
    # what the teardown releases, by the call that releases it
    released: Dict[str, Set[str]] = {}
    release_event: Dict[str, Event] = {}   # key -> its first release in teardown
    touched: Set[str] = set()
    for phase in ("unrealize", "instance_finalize", "runtime"):
        for ev in device.events[phase]:
            for a in ev.args:
                if a.path is not None:
                    touched.add(a.path.key())
            if phase not in cfg.release_phases or not ev.site.discarded or not ev.args:
                continue
            first = ev.args[0].path
            if first is None or first.address_of or not looks_like_release(ev.site.callee or "", words, known):
                continue
            released.setdefault(first.key(), set()).add(ev.site.callee)
            release_event.setdefault(first.key(), ev)
    out = []
    share = float(cfg.min_share)
    for callee, keys in sorted(kept.items()):
        freed = {k: released[k] for k in keys if k in released}
        if len(freed) < cfg.min_evidence or len(freed) < share * len(keys):
            continue
        names = sorted(set().union(*freed.values()))
        for key, ev in sorted(keys.items(), key=lambda kv: kv[1].site.loc):
            if key in freed or any(key_within(t, key) or t == key for t in touched):
                continue   # released, or handed to some call in teardown or at run time
            if device.not_ours(key):
                continue
            release_phase = cfg.release_phases[0]
            where = hook_loc(facts.program, dev, release_phase)
            related = [RelatedLocation(rel.site.loc, f"{rel.phase} releases {rel.args[0].path}, another "
                                       f"result of {callee}(), with {rel.site.callee}()", "evidence")
                       for rel in sorted((release_event[k] for k in freed), key=lambda e: e.site.loc)[:3]]
            if where is None and not related:
                related.append(RelatedLocation(dev.record.loc, f"{dev.name} has no {release_phase} hook",
                                               "missing-release"))
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev), loc=ev.site.loc,
                message=spec.message(resource=str(ev.result), call=callee, device=dev.name,
                                     releases=", ".join(n + "()" for n in names), evidence=len(freed),
                                     total=len(keys), function=ev.function[1]),
                function=ev.function[1], resource=str(ev.result), hook="realize", device=dev.name,
                related=tuple(related), shape=KIND.shape, expected_phases=cfg.release_phases))
    return out


KIND = Kind(
    name="deviant-teardown",
    summary="teardown releases most results of a realize call and forgets the rest",
    config=DeviantTeardownConfig,
    shape="missing-release",
    placeholders=frozenset({"resource", "call", "device", "releases", "evidence", "total", "function"}),
    check_device=check,
)
