"""What a device runs while it lives besides its lifecycle hooks: the
callbacks it registered on itself (MemoryRegionOps handlers, virtqueue
handlers, timer and bottom-half callbacks, chardev and fd handlers: the
registrations ``reach.py`` finds from rules/tables/callbacks.toml) and the
setters of its QOM properties (``[[property_setter]]`` of
rules/tables/hooks.toml: ``object_property_add(obj, ..., get, set, ...)``
in instance_init, ``object_class_property_add_str(klass, ..., set)`` in
class_init).

Each is an entry point of the "runtime" phase, walked like a hook (the
graph's walk: helpers inlined, class callbacks of the type resolved) with
its device parameter mapped onto the device: what it keeps in the device
must be released by the device's teardown, like what realize keeps
(virtio-gpu-gl's renderer made on the first virtqueue request creates a
timer; a property setter makes a stats timer).

This module reads the linked program, the callback registrations and the
hooks table; it knows nothing of rules, findings or their configuration.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

from ..graph import DeviceType, Event, FunctionKey, Program, Store
from ..model import GLOBAL, SELF, AccessPath
from .reach import Reach

_SETTER_KEYS = {"function", "setter", "object"}


class SetterTableError(ValueError):
    """rules/tables/hooks.toml's [[property_setter]] is malformed."""


@dataclass(frozen=True)
class PropertySetter:
    """A call that adds a QOM property with a setter (one
    ``[[property_setter]]`` entry).  The setter gets the object as its
    first parameter."""

    function: str
    setter: int                  # argument index of the setter function
    object: Optional[int] = None  # argument index of the object; None: a class property (every instance)


def check_setters(data: dict) -> List[PropertySetter]:
    """The ``[[property_setter]]`` entries of the hooks table, checked
    (SetterTableError names the first bad key)."""
    out = []
    entries = data.get("property_setter", [])
    if not isinstance(entries, list):
        raise SetterTableError("key 'property_setter' must be a list of tables")
    for i, entry in enumerate(entries):
        where = f"property_setter[{i}]"
        if not isinstance(entry, dict):
            raise SetterTableError(f"{where} must be a table")
        unknown = set(entry) - _SETTER_KEYS
        if unknown:
            raise SetterTableError(f"{where} has unknown keys {sorted(unknown)}; allowed: "
                                   f"{', '.join(sorted(_SETTER_KEYS))}")
        fn = entry.get("function")
        if not isinstance(fn, str) or not fn:
            raise SetterTableError(f"key '{where}.function' must be a function name")
        idx = {}
        for k in ("setter", "object"):
            v = entry.get(k)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise SetterTableError(f"key '{where}.{k}' must be an argument index")
            idx[k] = v
        if idx["setter"] is None:
            raise SetterTableError(f"key '{where}.setter' is required")
        out.append(PropertySetter(fn, idx["setter"], idx["object"]))
    return out


@dataclass(frozen=True)
class RuntimeEntry:
    """A function QEMU calls on a realized device outside its hooks."""

    function: FunctionKey
    env: Tuple[Tuple[int, AccessPath], ...]   # parameter index -> path on the device
    how: str     # "a callback registered with timer_new_ns() in foo_realize()", "the setter of ..."


class RuntimeEntries:
    """The runtime entry points of each device type and their walks (one
    per run)."""

    def __init__(self, program: Program, reach: Optional[Reach], hooks_table: dict):
        self.program = program
        self.reach = reach
        self.setters: Dict[str, PropertySetter] = {s.function: s for s in check_setters(hooks_table or {})}
        self._entries: Dict[str, List[RuntimeEntry]] = {}

    def entries(self, dev: DeviceType) -> List[RuntimeEntry]:
        """The callbacks ``dev`` registers on itself and the setters of its
        QOM properties; none that is one of its runtime hooks (walked as
        such) or defined in the framework's own files (qdev's "realized"
        setter: the core releases what it acquires for the device)."""
        got = self._entries.get(dev.name)
        if got is not None:
            return got
        program = self.program
        hooks = {r.function for refs in dev.hooks.values() for r in refs}
        out: List[RuntimeEntry] = []
        seen: Set[tuple] = set()

        def add(key: Optional[FunctionKey], env: Dict[int, AccessPath], how: str) -> None:
            if key is None or key in hooks or key not in program.functions or key[0] in program.core_files:
                return
            sig = (key, tuple(sorted((i, p.key(), p.address_of) for i, p in env.items())))
            if sig in seen:
                return
            seen.add(sig)
            out.append(RuntimeEntry(key, tuple(sorted(env.items(), key=lambda kv: kv[0])), how))

        if self.reach is not None:
            for reg in self.reach.registrations(dev):
                if reg.carrier or self.reach.spec_of(reg) is None or reg.parent is not None:
                    # a request's own structure, a bus child's entry; and a
                    # callback another callback registers (what it keeps is
                    # looked for in the walk of the code that registers it)
                    continue
                where = f" in {reg.within}()" if reg.within else ""
                add(reg.callback, {reg.opaque_param: reg.opaque},
                    f"{'the ' + reg.slot + ' handler' if reg.slot else 'a callback'} registered with "
                    f"{reg.call}(){where}")
        if self.setters:
            for phase in ("instance_init", "realize"):
                for ev in program.events(dev, phase):
                    spec = self.setters.get(ev.site.callee or "")
                    if spec is None or spec.object is None or spec.object >= len(ev.args) \
                            or spec.setter >= len(ev.args):
                        continue
                    obj = ev.args[spec.object].path
                    if obj is None or obj.root != SELF:
                        continue
                    add(_named(program, ev.function[0], ev.args[spec.setter].path), {0: obj},
                        f"the setter of a QOM property added with {spec.function}() in {ev.function[1]}()")
            for file, fn in self._class_inits(dev):
                for site in fn.calls:
                    spec = self.setters.get(site.callee or "")
                    if spec is None or spec.object is not None or spec.setter >= len(site.args):
                        continue
                    add(_named(program, file, site.args[spec.setter].path), {0: AccessPath(SELF)},
                        f"the setter of a QOM property added with {spec.function}() in {fn.name}()")
        self._entries[dev.name] = out
        return out

    def _class_inits(self, dev: DeviceType):
        """(file, function) of the class_init of ``dev`` and of each of
        its ancestors (QOM runs them all on the type's class)."""
        program = self.program
        for name in [dev.name] + program.ancestors(dev.name):
            t = program.types.get(name)
            if t is None or not t.record.class_init:
                continue
            for file in t.search_files or (t.file,):
                key = program.resolve(file, t.record.class_init)
                if key is not None:
                    yield key[0], program.functions[key]
                    break

    def entry_of(self, dev: DeviceType, ev: Event) -> Optional[RuntimeEntry]:
        """The entry whose walk made ``ev`` (None: a runtime hook's)."""
        if not ev.frames:
            return None
        start = ev.frames[0][0]
        return next((e for e in self.entries(dev) if e.function == start), None)

    def walks(self, dev: DeviceType, phase: str = "runtime") -> Tuple[List[Event], List[Store], List[List[Event]]]:
        """The events and stores of every entry of ``dev`` (``phase``: the
        phase they are given), and the events as the walks they are made
        of (see ``Program.segments``)."""
        events: List[Event] = []
        stores: List[Store] = []
        segments: List[List[Event]] = []
        for entry in self.entries(dev):
            evs, sts = self.program.entry_events(dev, phase, entry.function, dict(entry.env))
            events.extend(evs)
            stores.extend(sts)
            segments.append(evs)
        return events, stores, segments


def _named(program: Program, file: str, path: Optional[AccessPath]) -> Optional[FunctionKey]:
    """The function an argument names (``foo_set``, ``&foo_set``)."""
    if path is None or path.steps or not path.root.startswith(GLOBAL + ":"):
        return None
    return program.resolve(file, path.root.split(":", 1)[1])
