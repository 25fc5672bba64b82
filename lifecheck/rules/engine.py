"""The rule engine: run every rule of the catalog over the program.

A rule is data (rules/<slug>.toml) naming one of a few analysis kinds:

- ``missing-release``: a resource acquired in some phases has no release
  in others (subregion-not-deleted);
- ``wrong-phase-release``: a release made in a phase where it does not
  belong (freed-in-unrealize, del-subregion-in-finalize,
  unparent-in-finalize).

The kinds share one view of a device (``DeviceFacts``): its lifecycle
events, which calls acquire and release what (from rules/api), and what
the device itself created (regions, allocations).
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import threading
from typing import Dict, List, Optional, Set, Tuple

from .. import activity
from ..findings import Finding, RelatedLocation, severity_rank
from ..graph import PHASES, DeviceType, Event, Program
from ..model import CALL, GLOBAL, SELF, AccessPath
from .catalog import ApiCall, Catalog, RuleSpec, parse_version
from .lifetime import (LifetimeFacts, Op, _hook_loc, _message, _Order, double_release, error_path_leak,
                       leak, local_error_path_leaks, use_after_release)

# Calls that release a pointer with a function given as argument and clear
# it: name -> (index of the pointer's address, index of the function)
CLEAR_CALLS = {"g_clear_pointer": (0, 1)}


class ApiIndex:
    """function name -> [(family, ApiCall)], for the QEMU version checked."""

    def __init__(self, catalog: Catalog, version: Optional[Tuple[int, ...]] = None):
        self.by_function: Dict[str, List[Tuple[str, ApiCall]]] = {}
        self._effects: Dict[int, Tuple[Event, list]] = {}
        for fam in catalog.families.values():
            if not fam.applies_to(version):
                continue
            for call in fam.calls:
                if call.applies_to(version):
                    self.by_function.setdefault(call.function, []).append((fam.name, call))

    def effects(self, ev: Event) -> list:
        """What the call of ``ev`` does to resources, per family (a list
        shared by every caller: not to be changed)."""
        # the events of a hook's walk are shared by the types that share
        # the walk (Program.events): their effects are computed once
        seen = self._effects.get(id(ev))
        if seen is not None and seen[0] is ev:
            return seen[1]
        out = self.effects_uncached(ev)
        self._effects[id(ev)] = (ev, out)  # ev kept alive: its id is not reused
        return out

    def effects_uncached(self, ev: Event) -> list:
        """``effects`` computed anew (for events made for one question)."""
        out = []
        callee = ev.site.callee or ""
        entries = self.by_function.get(callee, ())
        unused_form = ev.site.result is None and any("result-unused" in c.attrs for _, c in entries)
        for fam, call in entries:
            if "result-unused" in call.attrs and ev.site.result is not None:
                continue  # this form of the call belongs to another family
            if unused_form and call.resource == -1:
                continue  # the result is dropped: the "result-unused" family tracks it
            path = ev.arg_path(call.resource)
            if path is None and call.resource != -1:
                continue
            # "result": the resource is what the call returns (s->t = timer_new())
            out.append(Op(call.role, fam, path, ev, call.attrs + (("result",) if call.resource == -1 else ()),
                          ev.arg_path(call.container) if call.container is not None else None))
        if callee in CLEAR_CALLS and len(ev.args) > 1:
            # g_clear_pointer(&s->timer, timer_free): timer_free's release,
            # and the field is cleared
            ptr, fn = CLEAR_CALLS[callee]
            target = ev.args[fn].path
            name = target.root.split(":", 1)[1] if target is not None and not target.steps else None
            path = ev.arg_path(ptr)
            for fam, call in self.by_function.get(name or "", ()):
                if call.role == "release" and path is not None:
                    out.append(Op("release", fam, path, ev, call.attrs + ("clears",)))
        return out

    def acquires(self, function: Optional[str], families) -> bool:
        return any(call.role == "acquire" and fam in families
                   for fam, call in self.by_function.get(function or "", ()))

    def lookup(self, function: Optional[str], family: str, role: str) -> Optional[ApiCall]:
        for fam, call in self.by_function.get(function or "", ()):
            if fam == family and call.role == role:
                return call
        return None


class DeviceFacts:
    """What one device type does in each phase, as the rules need it."""

    def __init__(self, program: Program, dev: DeviceType, api: ApiIndex, catalog: Catalog):
        self.program = program
        self.dev = dev
        self.api = api
        self.events: Dict[str, List[Event]] = {p: program.events(dev, p) for p in PHASES}
        tables = catalog.tables.get("ownership", {})
        self.outside_calls: Set[str] = set(tables.get("outside_container_calls", []))
        self.allocators: Set[str] = set(tables.get("allocators", []))
        # regions the device initialises: key -> (attrs, event)
        self.regions: Dict[str, Tuple[Set[str], Event]] = {}
        self.allocated: Set[str] = set()
        for phase in PHASES:
            for ev in self.events[phase]:
                call = api.lookup(ev.site.callee, "memory-region", "acquire")
                if call is not None:
                    path = ev.arg_path(call.resource)
                    if path is not None:
                        attrs, _ = self.regions.setdefault(path.key(), (set(), ev))
                        attrs.update(call.attrs)
                        owner = ev.args[1] if len(ev.args) > 1 else None
                        if owner is not None and owner.is_null:
                            attrs.add("unowned")
                if ev.site.callee in self.allocators and ev.result is not None:
                    self.allocated.add(ev.result.key())

    # -- resource predicates (named in rule data) --------------------------
    def is_region(self, path: AccessPath) -> bool:
        return path.key() in self.regions

    def region_attrs(self, path: AccessPath) -> Set[str]:
        entry = self.regions.get(path.key())
        return entry[0] if entry else set()

    def embeds_region(self, path: AccessPath) -> bool:
        """The object at ``path`` holds a region the device initialised
        (``g_free(s->sub)`` where ``&s->sub->mr`` was initialised)."""
        key = path.key()
        return any(k.startswith(key + ".") or k.startswith(key + "[]") for k in self.regions)

    def container_outside(self, path: Optional[AccessPath]) -> Optional[bool]:
        """True: the container lies outside the device; False: the device
        owns it; None: cannot tell (then no finding)."""
        if path is None:
            return None
        kind = path.root_kind
        if kind == CALL.split(":")[0]:
            fn = path.root.split(":", 1)[1]
            return True if fn in self.outside_calls else None
        if kind == GLOBAL:
            return True
        if path.root != SELF:
            return None
        key = path.key()
        if key in self.regions or key in self.allocated:
            return False
        if path.crosses_pointer():
            # s->sub->container: owned when the device allocated s->sub
            for i in range(1, len(path.steps)):
                if AccessPath(path.root, path.steps[:i]).key() in self.allocated:
                    return False
            return True
        if path.address_of:
            return False  # an embedded region of the device's own state
        return True       # a MemoryRegion pointer field set from outside

    def resource_matches(self, predicate: str, path: AccessPath) -> bool:
        if predicate == "any":
            return True
        if predicate == "region":
            return self.is_region(path)
        if predicate == "region-not-alias-or-container":
            return self.is_region(path) and not self.region_attrs(path) & {"alias", "container"}
        if predicate == "not-alias-or-container":
            return not self.region_attrs(path) & {"alias", "container"}
        if predicate == "embeds-region":
            return self.embeds_region(path)
        if predicate == "unowned-region":
            return "unowned" in self.region_attrs(path)
        raise ValueError(f"unknown resource predicate '{predicate}'")


class RuleContext:
    def __init__(self, program: Program, catalog: Catalog,
                 version: Optional[Tuple[int, ...]] = None):
        self.program = program
        self.catalog = catalog
        self.api = ApiIndex(catalog, version)
        self.version = version
        self._facts: Dict[str, DeviceFacts] = {}
        self._lifetime: Dict[str, object] = {}
        self.order = _Order(program)

    def lifetime(self, dev: DeviceType):
        f = self._lifetime.get(dev.name)
        if f is None:
            f = self._lifetime[dev.name] = LifetimeFacts(self, dev)
        return f

    def property_ops(self, dev: DeviceType) -> list:
        """Array properties (DEFINE_PROP_ARRAY): their setter allocates the
        array field before realize; the device must free it."""
        return self.program.property_acquisitions(dev, self.api)

    def facts(self, dev: DeviceType) -> DeviceFacts:
        f = self._facts.get(dev.name)
        if f is None:
            f = self._facts[dev.name] = DeviceFacts(self.program, dev, self.api, self.catalog)
        return f

    def severity(self, spec: RuleSpec, dev: DeviceType) -> str:
        sev = spec.config.get("default_severity", "warning")
        if spec.config.get("severity_by_unplug") and dev is not None and dev.unpluggable:
            sev = "error"
        # advice that a QEMU version did not yet give: reported, but milder
        for entry in spec.config.get("version_severity", []):
            low = entry.get("min")
            high = entry.get("max")
            v = self.version
            if v is None:
                continue
            if (low is None or v >= parse_version(low)) and (high is None or v < parse_version(high)):
                sev = entry.get("severity", sev)
        return sev


def missing_release(ctx: RuleContext, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg = spec.config
    facts = ctx.facts(dev)
    families = _as_list(cfg.get("families"))
    acquire_phases = _as_list(cfg.get("acquire_phases", ["realize"]))
    release_phases = _as_list(cfg.get("release_phases", ["unrealize"]))
    released: Set[str] = set()
    for phase in release_phases:
        for ev in facts.events[phase]:
            for fam in families:
                call = ctx.api.lookup(ev.site.callee, fam, "release")
                path = ev.arg_path(call.resource) if call else None
                if path is not None:
                    released.add(path.key())
    out = []
    for phase in acquire_phases:
        for ev in facts.events[phase]:
            for fam in families:
                call = ctx.api.lookup(ev.site.callee, fam, "acquire")
                if call is None:
                    continue
                path = ev.arg_path(call.resource)
                if path is None or path.key() in released:
                    continue
                container = ev.args[call.container] if call.container is not None and call.container < len(ev.args) else None
                if cfg.get("resource_filter") == "container-outside-device":
                    if facts.container_outside(container.path if container else None) is not True:
                        continue
                release_loc = _hook_loc(ctx.program, dev, release_phases[0])
                related = [RelatedLocation(_hook_loc(ctx.program, dev, phase) or ev.site.loc,
                                           f"{phase} hook of {dev.name}", "hook")]
                if release_loc is not None:
                    related.append(RelatedLocation(release_loc, f"{release_phases[0]} of {dev.name} does not release {path}", "missing-release"))
                else:
                    related.append(RelatedLocation(dev.record.loc, f"{dev.name} has no {release_phases[0]} hook", "missing-release"))
                out.append(Finding(
                    rule=spec.slug, severity=ctx.severity(spec, dev), loc=ev.site.loc,
                    message=_message(spec, resource=str(path), container=_describe(container),
                                     phase=phase, device=dev.name, function=ev.function[1],
                                     release_phase=release_phases[0]),
                    function=ev.function[1], resource=str(path), hook=phase, device=dev.name,
                    related=tuple(related)))
    return out


def wrong_phase_release(ctx: RuleContext, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg = spec.config
    facts = ctx.facts(dev)
    phases = _as_list(cfg.get("phases", cfg.get("phase")))
    unless = _as_list(cfg.get("unless_released_in", []))
    matches = cfg.get("match", [])
    out = []
    for m in matches:
        fam, predicate = m["family"], m.get("resource_is", "any")
        also_released: Set[str] = set()
        for other in unless:
            for ev in facts.events[other]:
                call = ctx.api.lookup(ev.site.callee, fam, "release")
                path = ev.arg_path(call.resource) if call else None
                if path is not None:
                    also_released.add(path.key())
        only = set(m.get("functions", []))
        for ev in [e for phase in phases for e in facts.events[phase]]:
            phase = ev.phase
            call = ctx.api.lookup(ev.site.callee, fam, "release")
            if call is None or (only and ev.site.callee not in only):
                continue
            path = ev.arg_path(call.resource)
            if path is None or path.key() in also_released:
                continue
            if not facts.resource_matches(predicate, path):
                continue
            related = [RelatedLocation(_hook_loc(ctx.program, dev, phase) or ev.site.loc,
                                       f"{phase} hook of {dev.name}", "hook")]
            region = facts.regions.get(path.key())
            if region is not None:
                related.append(RelatedLocation(region[1].site.loc, f"{path} is created here", "acquire"))
            out.append(Finding(
                rule=spec.slug, severity=ctx.severity(spec, dev), loc=ev.site.loc,
                message=_message(spec, resource=str(path), phase=phase, device=dev.name,
                                 function=ev.function[1], call=ev.site.callee),
                function=ev.function[1], resource=str(path), hook=phase, device=dev.name,
                related=tuple(related)))
    return out


def _describe(expr) -> str:
    """A container as the user knows it: ``get_system_memory()``,
    ``self.parent_mr``, or the C text when it has no path."""
    if expr is None:
        return "?"
    if expr.path is not None and (expr.path.root == SELF or expr.path.root_kind in ("call", "global")):
        return str(expr.path)
    return expr.text


KINDS = {
    "missing-release": missing_release,
    "wrong-phase-release": wrong_phase_release,
    "leak": leak,
    "error-path-leak": error_path_leak,
    "double-release": double_release,
    "use-after-release": use_after_release,
}
# kinds that also look at code outside any device's lifecycle
PROGRAM_KINDS = {
    "error-path-leak": local_error_path_leaks,
}


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def run_rules(program: Program, catalog: Catalog, version: Optional[Tuple[int, ...]],
              select: Optional[Set[str]] = None, jobs: int = 1) -> Tuple[List[Finding], List[RuleSpec]]:
    """Run every applicable rule on every device type; findings deduplicated
    (several types sharing one hook report once, at the highest severity).

    With ``jobs`` > 1 on a big program, a forked copy of this process runs
    the rules on half of the types (``_forked``); the findings are merged
    in the order one process would have found them, so the result is the
    same."""
    ctx = RuleContext(program, catalog, version)
    specs = [s for s in sorted(catalog.rules.values(), key=lambda s: s.slug)
             if s.applies_to(version) and (select is None or s.slug in select)]
    names = sorted(program.types)
    found: Optional[Dict[Tuple[str, str], List[Finding]]] = None
    if jobs > 1 and len(names) >= FORK_MIN_TYPES:
        found = _forked(ctx, specs, names)
    if found is None:
        found = _findings_of(ctx, specs, names, extras=True)
    best: Dict[Tuple, Finding] = {}

    def keep(f: Finding) -> None:
        key = (f.rule, f.loc, f.resource)
        old = best.get(key)
        if old is None or severity_rank(f.severity) > severity_rank(old.severity):
            best[key] = f

    for spec in specs:
        for name in names:
            for f in found.get((spec.slug, name), ()):
                keep(f)
        for f in found.get((spec.slug, ""), ()):
            if (f.rule, f.loc, f.resource) not in best:
                keep(f)
    findings = sorted(best.values(), key=lambda f: f.sort_key())
    return findings, specs


# Below this many types the rules take under a second: not worth a fork.
FORK_MIN_TYPES = 200


def _findings_of(ctx: RuleContext, specs: List[RuleSpec], names: List[str],
                 extras: bool) -> Dict[Tuple[str, str], List[Finding]]:
    """(rule, type) -> what the rule finds in that type, for the given types;
    with ``extras``, also (rule, "") -> what the rule finds outside any
    type's lifecycle (PROGRAM_KINDS)."""
    out: Dict[Tuple[str, str], List[Finding]] = {}
    types = ctx.program.types
    for spec in specs:
        kind = KINDS[spec.kind]
        for name in names:
            activity.doing(f"running rule {spec.slug} on device type {name}", types[name].file)
            got = list(kind(ctx, spec, types[name]))
            if got:
                out[(spec.slug, name)] = got
        extra = PROGRAM_KINDS.get(spec.kind)
        if extras and extra is not None:
            activity.doing(f"running rule {spec.slug} over the whole program")
            out[(spec.slug, "")] = list(extra(ctx, spec))
    return out


def _forked(ctx: RuleContext, specs: List[RuleSpec],
            names: List[str]) -> Optional[Dict[Tuple[str, str], List[Finding]]]:
    """The findings of every type, half of them (and the program-wide
    findings) found by a forked child, the other half here.  None where
    there is no fork() or other threads run (a fork copies only this one);
    a child that fails has its share redone here."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    mine, theirs = names[0::2], names[1::2]
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns
        status = 1
        try:
            os.close(read_end)
            gc.disable()  # nothing it makes outlives it
            data = pickle.dumps(_findings_of(ctx, specs, theirs, extras=True), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        except BaseException:  # noqa: B036 - reported by the parent redoing the work
            pass
        finally:
            os._exit(status)  # no atexit handlers, no flushing of the parent's buffers
    os.close(write_end)
    try:
        found = _findings_of(ctx, specs, mine, extras=False)
    except BaseException:
        os.close(read_end)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            chunk = pipe.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    child = None
    if status == 0:
        try:
            child = pickle.loads(b"".join(chunks))
        except Exception:
            child = None
    if child is None:
        child = _findings_of(ctx, specs, theirs, extras=True)
    found.update(child)
    return found
