"""The lifecycle graph: call graph and QOM types over the whole program.

Built from ``model.TranslationUnit`` records only.  It answers: which device
types exist, which functions run in each lifecycle phase of a type (its
hooks and, transitively, the helpers they call), and what each call there
does to the device, with every access path re-based on the device object.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

import networkx as nx

from .model import (PARAM, SELF, AccessPath, CallSite, Expr, Function, HookBinding, Location,
                    TranslationUnit, TypeInfoRecord)

# "runtime": hooks the device runs while realized (reset, config writes);
# not part of the lifecycle order, but what they acquire must be released
# on teardown too
PHASES = ("instance_init", "realize", "unrealize", "instance_finalize", "runtime")
MAX_CALL_DEPTH = 12
# a bound on the calls followed for one phase of one type (helpers called
# from many places are walked once per call path)
MAX_PHASE_EVENTS = 20000

FunctionKey = Tuple[str, str]  # (file, function name)


@dataclass(frozen=True)
class HookRef:
    phase: str
    function: FunctionKey
    loc: Location          # where the hook is bound (class_init line or TypeInfo)
    bound_by: str          # "DeviceClass.realize", "TypeInfo.instance_finalize", ...


@dataclass
class DeviceType:
    name: str
    parent: Optional[str]
    record: TypeInfoRecord
    file: str
    hooks: Dict[str, List[HookRef]] = field(default_factory=dict)
    settings: Dict[str, str] = field(default_factory=dict)   # e.g. hotpluggable = "false"
    unpluggable: bool = False
    unplug_reason: str = ""
    props: List[Tuple[str, str]] = field(default_factory=list)   # (file, Property array)


@dataclass(frozen=True)
class Store:
    """An assignment made while a device is in one lifecycle phase, its
    left-hand side re-based on the device object."""

    phase: str
    lhs: Optional[AccessPath]
    rhs: Expr
    loc: Location
    function: FunctionKey
    index: int                                   # into Function.assignments
    frames: Tuple[Tuple[FunctionKey, int], ...]  # the calls that led to ``function``


@dataclass(frozen=True)
class Event:
    """A call made while a device is in one lifecycle phase, with its
    arguments re-based on the device object (root ``self``)."""

    phase: str
    site: CallSite
    function: FunctionKey          # the function that makes the call
    args: Tuple[Expr, ...]         # translated arguments
    result: Optional[AccessPath]   # translated result path
    via: Tuple[str, ...]           # hook, helper, ..., function
    # (function, index of the call it makes) from the hook down to this call;
    # orders events of one phase and places them in each function's CFG
    frames: Tuple[Tuple[FunctionKey, int], ...] = ()

    def arg_path(self, index: int) -> Optional[AccessPath]:
        if index == -1:
            return self.result
        if 0 <= index < len(self.args):
            return self.args[index].path
        return None


class Program:
    """All translation units of a run, linked."""

    def __init__(self, units: Iterable[TranslationUnit], tables: Optional[dict] = None,
                 opaque_calls: Iterable[str] = ()):
        """``opaque_calls``: functions whose bodies are not followed because
        data describes what they do (the API table's acquire and release
        calls: what qemu_allocate_irq() does inside is its business)."""
        self.units = sorted(units, key=lambda u: u.file)
        self.opaque_calls = frozenset(opaque_calls)
        self._unit_by_file = {u.file: u for u in self.units}
        tables = tables or {}
        self.phase_of: Dict[str, str] = dict(tables.get("hooks", {}).get("phases", {}))
        plug = tables.get("hotplug", {})
        self.unpluggable_bases = set(plug.get("unpluggable_bases", []))
        self.managed_calls = {m["function"] for m in tables.get("framework", {}).get("managed", [])}
        self.functions: Dict[FunctionKey, Function] = {}
        self.by_name: Dict[str, List[FunctionKey]] = {}
        for unit in self.units:
            for fn in unit.functions.values():
                key = (unit.file, fn.name)
                self.functions[key] = fn
                self.by_name.setdefault(fn.name, []).append(key)
        self.call_graph = nx.DiGraph()
        for key, fn in self.functions.items():
            self.call_graph.add_node(key)
            for site in fn.calls:
                target = self.resolve(key[0], site.callee)
                if target is not None:
                    self.call_graph.add_edge(key, target)
        self.types: Dict[str, DeviceType] = {}
        self.type_graph = nx.DiGraph()
        self._build_types()
        self._event_cache: Dict[Tuple[str, str], List[Event]] = {}
        self._store_cache: Dict[Tuple[str, str], List[Store]] = {}

    # -- functions ---------------------------------------------------------
    def resolve(self, file: str, name: Optional[str]) -> Optional[FunctionKey]:
        """The definition a call in ``file`` reaches: the file's own, else a
        unique non-static definition elsewhere."""
        if name is None:
            return None
        if (file, name) in self.functions:
            return (file, name)
        others = [k for k in self.by_name.get(name, ()) if not self.functions[k].static]
        return others[0] if len(others) == 1 else None

    # -- QOM types ---------------------------------------------------------
    def _build_types(self) -> None:
        bindings_by_fn: Dict[FunctionKey, List[HookBinding]] = {}
        for unit in self.units:
            for b in unit.bindings:
                bindings_by_fn.setdefault((unit.file, b.function), []).append(b)
        for unit in self.units:
            for rec in unit.types:
                dev = DeviceType(name=rec.name, parent=rec.parent, record=rec, file=unit.file)
                if rec.instance_init:
                    self._add_hook(dev, "instance_init", unit.file, rec.instance_init, rec.loc,
                                   "TypeInfo.instance_init")
                if rec.instance_finalize:
                    self._add_hook(dev, "instance_finalize", unit.file, rec.instance_finalize,
                                   rec.loc, "TypeInfo.instance_finalize")
                if rec.class_init:
                    for b in self._class_bindings(unit.file, rec.class_init, bindings_by_fn):
                        self._bind(dev, unit.file, b)
                self.types.setdefault(rec.name, dev)
                self.type_graph.add_node(rec.name)
                if rec.parent:
                    self.type_graph.add_edge(rec.name, rec.parent)
        for dev in self.types.values():
            self._inherit(dev)
            dev.unpluggable, dev.unplug_reason = self._unpluggable(dev)

    def _class_bindings(self, file: str, class_init: str, by_fn) -> List[HookBinding]:
        """Bindings made in class_init and in the helpers it calls."""
        start = self.resolve(file, class_init)
        if start is None:
            return []
        out: List[HookBinding] = []
        for key in [start] + [k for k in nx.descendants(self.call_graph, start)]:
            out.extend(by_fn.get(key, ()))
        return out

    def _add_hook(self, dev: DeviceType, phase: str, file: str, name: str, loc: Location,
                  bound_by: str) -> None:
        key = self.resolve(file, name)
        if key is None:
            return
        refs = dev.hooks.setdefault(phase, [])
        if all(r.function != key for r in refs):
            refs.append(HookRef(phase, key, loc, bound_by))

    def _bind(self, dev: DeviceType, file: str, b: HookBinding) -> None:
        phase = self.phase_of.get(f"{b.class_type}.{b.field}")
        if phase is None and b.class_type == "":
            phase = {"realize": "realize", "unrealize": "unrealize"}.get(b.field)
        if b.field in ("props", "props_") and b.target:
            if (file, b.target) not in dev.props:
                dev.props.append((file, b.target))
        elif phase is not None and b.target:
            self._add_hook(dev, phase, file, b.target, b.loc, f"{b.class_type}.{b.field}")
        elif b.target is None:
            dev.settings[b.field] = b.value

    def _inherit(self, dev: DeviceType) -> None:
        """Hooks a type does not bind itself come from its parents; QOM also
        runs every ancestor's instance_init and instance_finalize."""
        seen = {dev.name}
        parent = dev.parent
        while parent in self.types and parent not in seen:
            seen.add(parent)
            pdev = self.types[parent]
            for phase, refs in pdev.hooks.items():
                mine = dev.hooks.setdefault(phase, [])
                if phase in ("instance_init", "instance_finalize") or not mine:
                    for r in refs:
                        if all(m.function != r.function for m in mine):
                            mine.append(r)
            for k, v in pdev.settings.items():
                dev.settings.setdefault(k, v)
            for p in pdev.props:
                if p not in dev.props:
                    dev.props.append(p)
            parent = pdev.parent

    def ancestors(self, name: str) -> List[str]:
        chain, seen = [], {name}
        cur = self.types[name].parent if name in self.types else None
        while cur and cur not in seen:
            chain.append(cur)
            seen.add(cur)
            cur = self.types[cur].parent if cur in self.types else None
        return chain

    def _unpluggable(self, dev: DeviceType) -> Tuple[bool, str]:
        if dev.settings.get("hotpluggable") in ("false", "0"):
            return False, "class sets hotpluggable = false"
        if dev.settings.get("user_creatable") in ("false", "0"):
            return False, "class sets user_creatable = false"
        for anc in [dev.name] + self.ancestors(dev.name):
            if anc in self.unpluggable_bases:
                return True, f"descends from {anc}"
        return False, "no hot-unpluggable ancestor"

    def property_acquisitions(self, dev: DeviceType, api) -> list:
        """The heap arrays that the setters of the type's array properties
        allocate (DEFINE_PROP_ARRAY): acquired before realize, to be freed
        by the device."""
        from .rules.lifetime import Op
        out = []
        for entry, file, var in self.properties_of(dev):
            if entry.array_field is None:
                continue
            path = AccessPath(SELF, (("->", entry.array_field),))
            site = CallSite(callee="DEFINE_PROP_ARRAY", args=(), loc=entry.loc, result=path,
                            callee_text="DEFINE_PROP_ARRAY", index=-1)
            ev = Event("realize", site, (file, var), (), path, (var,), ())
            out.append(Op("acquire", "heap", path, ev))
        return out

    def properties_of(self, dev: DeviceType):
        """(entry, file, array name) of every static property of the type
        and its ancestors (device_class_set_props)."""
        for file, var in dev.props:
            unit = self._unit_by_file.get(file)
            for entry in (unit.properties.get(var, ()) if unit else ()):
                yield entry, file, var

    # -- lifecycle events --------------------------------------------------
    def events(self, dev: DeviceType, phase: str) -> List[Event]:
        """Every call reachable from the type's hooks for ``phase``."""
        cache_key = (dev.name, phase)
        if cache_key in self._event_cache:
            return self._event_cache[cache_key]
        out: List[Event] = []
        stores: List[Store] = []
        for ref in dev.hooks.get(phase, ()):
            env = {0: AccessPath(SELF)}
            self._walk(phase, ref.function, env, (ref.function[1],), (), out, stores, {ref.function})
        self._event_cache[cache_key] = out
        self._store_cache[cache_key] = stores
        return out

    def stores(self, dev: DeviceType, phase: str) -> List[Store]:
        """Every assignment reachable from the type's hooks for ``phase``."""
        self.events(dev, phase)
        return self._store_cache[(dev.name, phase)]

    def _walk(self, phase, key, env, via, frames, out, stores, stack) -> None:
        fn = self.functions[key]
        for i, a in enumerate(fn.assignments):
            lhs = _translate_path(a.lhs.path, env) if a.lhs.path is not None else None
            stores.append(Store(phase, lhs, _translate_expr(a.rhs, env), a.loc, key, i, frames))
        for site in fn.calls:
            args = tuple(_translate_expr(a, env) for a in site.args)
            result = _translate_path(site.result, env) if site.result else None
            here = frames + ((key, site.index),)
            out.append(Event(phase, site, key, args, result, via, here))
            if site.callee in self.managed_calls or site.callee in self.opaque_calls:
                continue  # the framework releases what these acquire; the API table says what they do
            target = self.resolve(key[0], site.callee)
            if target is None or target in stack or len(via) >= MAX_CALL_DEPTH \
                    or len(out) >= MAX_PHASE_EVENTS:
                continue
            callee_env = {i: a.path for i, a in enumerate(args) if a.path is not None}
            if not callee_env:
                continue
            self._walk(phase, target, callee_env, via + (target[1],), here, out, stores,
                       stack | {target})


def _translate_path(path: AccessPath, env: Dict[int, AccessPath]) -> AccessPath:
    if path.root.startswith(PARAM + ":"):
        idx = int(path.root.split(":", 1)[1])
        base = env.get(idx)
        if base is not None:
            return path.with_root(base)
        return AccessPath("unknown:" + path.root, path.steps, path.address_of)
    return path


def _translate_expr(expr: Expr, env: Dict[int, AccessPath]) -> Expr:
    if expr.path is None:
        return expr
    new = _translate_path(expr.path, env)
    args = tuple(_translate_expr(a, env) for a in expr.args) if expr.args else ()
    return Expr(expr.kind, expr.text, new, expr.callee, args)
