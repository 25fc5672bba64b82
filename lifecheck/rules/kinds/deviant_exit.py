"""Kind ``deviant-exit``: an error exit that leaves behind what the
function's other error exits release (deviant-error-exit).

The function's own code says which call releases the value
(facts/deviance.py), so this finds leaks on error paths of device helpers
and of APIs that rules/api does not list.  Runs on every function (values
held in locals) and on realize hooks (values kept in the device that
instance_finalize does not release: unrealize is not called after a failed
realize)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Optional, Tuple

from ...facts import Facts
from ...facts.deviance import DeviantExit, deviant_exits, release_words
from ...facts.mining import Pairing
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType, FunctionKey, translate_path
from ...model import LOCAL, PARAM, SELF, AccessPath, Function, Location
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, severity


@dataclass(frozen=True)
class DeviantExitConfig(RuleConfig):
    skip_families: Tuple[str, ...] = field(default=(), metadata=meta(
        "family", "acquisitions of these families are left to the rules that know them"))
    min_evidence: int = field(default=1, metadata=meta(
        "", "how many other error exits must release the value"))


def vocabulary(facts: Facts) -> Tuple[FrozenSet[str], FrozenSet[str], FrozenSet[str]]:
    """(release verbs of rules/tables/pairing.toml, release calls of
    rules/api, hand-off words of rules/tables/ownership.toml), once per run."""
    cached = getattr(facts, "_deviance_vocabulary", None)
    if cached is None:
        pairing = Pairing.from_table(facts.tables.get("pairing", {}))
        known = frozenset(n for fam in facts.api.families.values() for n in fam.release_names())
        handoff = frozenset(facts.tables.get("ownership", {}).get("handoff_words", ()))
        cached = (release_words(pairing.verbs), known, handoff)
        facts._deviance_vocabulary = cached   # type: ignore[attr-defined]
    return cached


def _skipped(facts: Facts, cfg: DeviantExitConfig, d: DeviantExit) -> bool:
    return bool(cfg.skip_families) and facts.api.acquires(d.acquire.callee, set(cfg.skip_families))


def check(facts: Facts, spec: RuleSpec, dev: Optional[DeviceType]) -> List[Finding]:
    """Realize hooks of ``dev`` and the helpers they call: values kept in
    the device (``s->x = f(...)``) that one error exit leaves while the
    others release them, and that instance_finalize does not release."""
    if dev is None:
        return []
    cfg: DeviantExitConfig = spec.config
    program = facts.program
    # each function realize runs, with its parameters as paths of the device
    runs: Dict[FunctionKey, Dict[int, AccessPath]] = {}
    for ref in dev.hooks.get("realize", ()):
        runs.setdefault(ref.function, {0: AccessPath(SELF)})
    for ev in program.events(dev, "realize"):
        target = program.resolve(ev.function[0], ev.site.callee)
        if target is None or target in runs:
            continue
        env = {i: a.path for i, a in enumerate(ev.args) if a.path is not None and a.path.root == SELF}
        if env:
            runs[target] = env
    out = []
    for key, env in runs.items():
        for d in _exits_on_params(facts, key):
            if len(d.evidence) < cfg.min_evidence or _skipped(facts, cfg, d):
                continue
            on_self = translate_path(d.path, env)
            if on_self.root != SELF or _finalize_releases(facts, dev, on_self, d.releases):
                continue
            out.append(_finding(facts, spec, dev, program.functions[key], d, str(on_self)))
    return out


def _exits_on_params(facts: Facts, key: FunctionKey) -> List[DeviantExit]:
    """``deviant_exits`` of a function for values kept through its
    parameters (once per run: helpers are shared by many devices)."""
    memo = facts.__dict__.setdefault("_deviant_param_exits", {})
    if key not in memo:
        fn = facts.program.functions.get(key)
        words, known, handoff = vocabulary(facts)
        roots = tuple(f"{PARAM}:{i}" for i in range(len(fn.params))) if fn is not None else ()
        memo[key] = deviant_exits(fn, words, known, roots, handoff) if roots else []
    return memo[key]


def _finalize_releases(facts: Facts, dev: DeviceType, path: AccessPath, names) -> bool:
    key = path.key()
    for ev in facts.program.events(dev, "instance_finalize"):
        if ev.site.callee in names and any(a.path is not None and a.path.key() == key for a in ev.args):
            return True
    return False


def check_program(facts: Facts, spec: RuleSpec) -> List[Finding]:
    """Every function: values held in locals that one error exit leaves
    while the function's other error exits release them."""
    cfg: DeviantExitConfig = spec.config
    words, known, handoff = vocabulary(facts)
    out = []
    for key in sorted(facts.program.functions):
        fn = facts.program.functions[key]
        for d in deviant_exits(fn, words, known, (LOCAL,), handoff):
            if len(d.evidence) < cfg.min_evidence or _skipped(facts, cfg, d):
                continue
            out.append(_finding(facts, spec, None, fn, d, str(d.path)))
    return out


def _finding(facts: Facts, spec: RuleSpec, dev: Optional[DeviceType], fn: Function, d: DeviantExit,
             resource: str) -> Finding:
    site = d.acquire
    releases = ", ".join(n + "()" for n in d.releases)
    lines = ", ".join(str(n) for n in d.evidence)
    related = [RelatedLocation(Location(fn.loc.file, d.exit_line, 1),
                               f"error exit of {fn.name}() that leaves {resource} behind", "error-exit")]
    related += [RelatedLocation(Location(fn.loc.file, n, 1),
                                f"error exit of {fn.name}() that releases it", "evidence")
                for n in d.evidence[:3]]
    return Finding(
        rule=spec.slug, severity=severity(facts, spec, dev), loc=site.loc,
        message=spec.message(resource=resource, call=site.callee, function=fn.name,
                             return_line=d.exit_line, releases=releases, evidence=len(d.evidence),
                             evidence_lines=lines),
        function=fn.name, resource=resource, hook="realize" if dev is not None else "",
        device=dev.name if dev else "", related=tuple(related), shape=KIND.shape)


KIND = Kind(
    name="deviant-exit",
    summary="an error exit leaves behind what the function's other error exits release",
    config=DeviantExitConfig,
    shape="error-exit-leak",
    placeholders=frozenset({"resource", "call", "function", "return_line", "releases", "evidence",
                            "evidence_lines"}),
    check_device=check,
    check_program=check_program,
)
