"""Kind ``use-after-release``: along one teardown (unrealize, then
instance_finalize), a resource used after its release."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Set, Tuple

from ...facts import Facts
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType
from ...model import SELF, AccessPath, Location, key_within
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, families, mined, severity
from .teardown import TEARDOWN, teardown_releases


@dataclass(frozen=True)
class UseAfterReleaseConfig(RuleConfig):
    families: Optional[Tuple[str, ...]] = field(default=None, metadata=meta(
        "family-set", "families whose release frees memory (\"must_release\": every family marked so)"))
    exclude_families: Tuple[str, ...] = field(default=(), metadata=meta("family", "families left out"))
    not_uses: Tuple[str, ...] = field(default=(), metadata=meta(
        "", "calls that do not use what they are given"))
    callee_reads: bool = field(default=False, metadata=meta(
        "", "also a call whose function (or a function it calls, a few deep) reads the released "
            "memory through a parameter the call hands the object holding it "
            "(vhost_dev_cleanup(&s->dev) walks s->dev.vqs): function summaries"))
    wiped_message: str = field(default="", metadata=meta(
        "message", "the message for a field read after a release that wipes its object "
                   "(attr \"wipes\"); default: the rule's"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: UseAfterReleaseConfig = spec.config
    device = facts.device(dev)
    order = facts.order
    releases = teardown_releases(facts, dev, families(facts, cfg.families, cfg.exclude_families))
    events = [ev for phase in TEARDOWN for ev in device.events[phase]]
    not_uses = set(cfg.not_uses)
    out = []
    reported: Set[Tuple[str, Location]] = set()
    for rel in releases:
        if "[]" in rel.key or "{}" in rel.key or device.cleared(rel.key, TEARDOWN):
            continue
        wipes = "wipes" in rel.attrs
        if rel.path.address_of and not wipes:
            # unregistering an embedded object (&s->vbasedev) frees nothing
            continue
        key = rel.key
        for ev in events:
            if ev is rel.event or ev.site.callee in not_uses:
                continue
            used = None
            for arg in ev.args:
                p = arg.path
                if p is None or p.root != SELF:
                    continue
                k = p.key()
                if wipes and (k == key or arg.text.isidentifier()):
                    # the wiped object itself may be handed on (zeroed, not
                    # freed); a local read the field before (``vqs = s->dev.vqs``)
                    continue
                if k == key or (key_within(k, key) and (wipes or _through_pointer(rel.path, p))):
                    used = p
                    break
            read_at = None
            if used is None and cfg.callee_reads and not wipes:
                used, read_at = _read_by_callee(facts, ev, rel.path, key)
            if used is None:
                continue
            # a second release of the same resource is double-release's finding
            if any(o.role == "release" and o.key == key and o.family == rel.family
                   for o in facts.api.effects(ev)):
                continue
            if not order.after(rel.event, ev):
                continue
            if (key, ev.site.loc) in reported:
                continue
            reported.add((key, ev.site.loc))
            values = dict(resource=str(used), released=str(rel.path),
                          call=ev.site.callee, release_call=rel.event.site.callee,
                          release_phase=rel.event.phase, release_line=rel.event.site.loc.line,
                          phase=ev.phase, device=dev.name)
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev, rel.family), mined=mined(facts, rel.family), family=rel.family,
                loc=ev.site.loc,
                message=(cfg.wiped_message.format(**values) if wipes and cfg.wiped_message
                         else spec.message(**values)),
                function=ev.function[1], resource=str(rel.path), hook=ev.phase, device=dev.name,
                related=(RelatedLocation(rel.event.site.loc,
                                         f"{rel.path} is {'wiped' if wipes else 'released'} here "
                                         f"({rel.event.phase})", "release"),)
                + ((RelatedLocation(read_at, f"{ev.site.callee}() reaches {used} here", "use"),)
                   if read_at is not None else ()),
                shape=KIND.shape))
            break
    return out


def _read_by_callee(facts: Facts, ev, released: AccessPath, key: str):
    """(the path, where) of an access the function ``ev`` calls makes,
    itself or a few calls deeper, to memory reached through the released
    pointer, by way of an argument that holds it (``&s->dev`` for
    ``s->dev.vqs``); (None, None) when there is none."""
    target = facts.program.resolve(ev.function[0], ev.site.callee)
    if target is None:
        return None, None
    reads = None
    for i, arg in enumerate(ev.args):
        p = arg.path
        if p is None or p.root != SELF or not key_within(key, p.key()):
            continue
        if reads is None:
            reads = facts.summaries.reads_of(target)
        root = f"param:{i}"
        for path, loc in reads.values():
            if path.root != root:
                continue
            q = path.with_root(p)
            if key_within(q.key(), key) and q.key() != key and _through_pointer(released, q):
                return q, loc
    return None, None


def _through_pointer(released: AccessPath, used: AccessPath) -> bool:
    """``s->sub->x`` uses the memory of ``s->sub`` (freed by g_free(s->sub));
    ``s->sub.x`` where sub is embedded is not reached through the pointer."""
    n = len(released.steps)
    return len(used.steps) > n and used.steps[n][0] in ("->", "*", "[]")


KIND = Kind(
    name="use-after-release",
    summary="used after its release along one teardown",
    config=UseAfterReleaseConfig,
    shape="use-after-release",
    placeholders=frozenset({"resource", "released", "call", "release_call", "release_phase",
                            "release_line", "phase", "device"}),
    check_device=check,
)
