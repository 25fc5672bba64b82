"""The lifecycle graph: call graph and QOM types over the whole program.

Built from ``model.TranslationUnit`` records only.  It answers: which device
types exist, which functions run in each lifecycle phase of a type (its
hooks and, transitively, the helpers they call), and what each call there
does to the device, with every access path re-based on the device object.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

import networkx as nx

from .model import (PARAM, SELF, AccessPath, CallSite, Expr, Function, HookBinding, Location,
                    LostFunction, TranslationUnit, TypeInfoRecord, key_within)

# "runtime": hooks the device runs while realized (reset, config writes);
# not part of the lifecycle order, but what they acquire must be released
# on teardown too
PHASES = ("instance_init", "realize", "unrealize", "instance_finalize", "runtime")
MAX_CALL_DEPTH = 12
# a bound on the calls followed for one phase of one type (helpers called
# from many places are walked once per call path)
MAX_PHASE_EVENTS = 20000
# the same for one runtime entry (a callback, a property setter): what it
# keeps in the device is made within a few calls of it (virtio-gpu-gl's
# timers: bottom half -> class callback -> init, 3), while the emulation it
# runs (a NIC's transmit path) goes deep and costs the rule phase
MAX_ENTRY_DEPTH = 6
MAX_ENTRY_EVENTS = 2000

FunctionKey = Tuple[str, str]  # (file, function name)
# A call through a class's saved parent hook: ``xc->parent_realize(dev, errp)``,
# ``(*k->parent_exit)(d)``.  The field was filled by
# device_class_set_parent_realize() or by hand with the parent class's hook.
_PARENT_HOOK_CALL_RE = re.compile(r"(?:->|\.)\s*parent_(\w+)\s*\)?\s*$")
# ``rpc->parent_class.exit(d)``: the hook the type's class holds in the
# embedded superclass struct, i.e. the type's own hook for that phase
_CLASS_HOOK_CALL_RE = re.compile(r"(?:->|\.)\s*parent_class\s*\.\s*(\w+)\s*\)?\s*$")
# ``vic->unrealize(dev)``: a call through a field of a variable (its class
# when the variable's type is a class struct)
_VAR_FIELD_CALL_RE = re.compile(r"^\s*\(?\s*\*?\s*(\w+)\s*->\s*(\w+)\s*\)?\s*$")
# ``if (!vic->unrealize)``: a test of whether a variable's field is set
_CLASS_TEST_RE = re.compile(r"^\s*!?\s*(\w+)\s*->\s*(\w+)\s*$")
# ``dev->vhost_ops->vhost_backend_cleanup(dev)``: the last field of a call
# through a pointer
_LAST_FIELD_CALL_RE = re.compile(r"(?:->|\.)\s*(\w+)\s*\)?\s*$")
# An ops-table call (``vhost_ops->vhost_dev_cleanup(dev)``) is followed
# into the functions file-scope initialisers put in a field of that name
# when there are at most this many.  A field named ``read`` or ``reset`` is
# in hundreds of tables; one that two tables fill is, as often as not, a
# choice the configuration makes (vhost's kernel, user and vDPA back ends:
# following both made a vhost-user device unmap vDPA notifiers): such a
# call stays one lifecheck cannot see into
MAX_OPS_TARGETS = 1
# A class callback that many types fill (``mc->init``: every machine)
# gets no call-graph edges: the walk resolves it per type all the same,
# but what a function "can reach" would take in every filler's file
MAX_CLASS_EDGES = 8
# the phases where ops-table calls are followed (what a backend's teardown
# releases; its set-up is the backend's own)
OPS_TABLE_PHASES = ("unrealize", "instance_finalize")


@dataclass(frozen=True)
class HookRef:
    phase: str
    function: FunctionKey
    loc: Location          # where the hook is bound (class_init line or TypeInfo)
    bound_by: str          # "DeviceClass.realize", "TypeInfo.instance_finalize", ...
    owner: str = ""        # the type whose TypeInfo or class_init binds it


@dataclass
class DeviceType:
    name: str
    parent: Optional[str]
    record: TypeInfoRecord
    file: str
    hooks: Dict[str, List[HookRef]] = field(default_factory=dict)
    settings: Dict[str, str] = field(default_factory=dict)   # e.g. hotpluggable = "false"
    settings_from: Dict[str, str] = field(default_factory=dict)  # setting -> type that made it
    unpluggable: bool = False
    unplug_reason: str = ""
    props: List[Tuple[str, str]] = field(default_factory=list)   # (file, Property array)
    # where its functions are looked up: its own file, then (for a type a
    # registration helper built) the helper's file
    search_files: Tuple[str, ...] = ()
    # hooks bound to a function that could not be parsed (FunctionKey of
    # the lost function): nothing of theirs is in ``hooks``
    lost_hooks: Dict[str, List[HookRef]] = field(default_factory=dict)
    # function-valued fields of its class that are no lifecycle hook
    # (``vic->unrealize = virtio_input_hid_unrealize``,
    # ``rpc->interrupts_uninit = ...``): (class struct, field) -> the
    # function its class_init (or an ancestor's) stores there
    callbacks: Dict[Tuple[str, str], FunctionKey] = field(default_factory=dict)


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
class LostReach:
    """A function that could not be parsed, reached from a device type's
    hook: what it does in that phase is unknown to every rule."""

    lost: FunctionKey
    line: int                  # where its definition starts
    device: str
    phase: str
    via: Tuple[str, ...]       # hook, helper, ..., the caller; () when bound as the hook itself
    bound_by: str              # how the hook is bound ("PCIDeviceClass.realize", ...)
    unpluggable: bool
    abstract: bool = False


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
    # translated fields that are true wherever the call runs: the tests of
    # the ``if``s around it and around the calls that led to it
    guards: Tuple[AccessPath, ...] = ()

    def arg_path(self, index: int) -> Optional[AccessPath]:
        if index == -1:
            return self.result
        if 0 <= index < len(self.args):
            return self.args[index].path
        return None


# A function's body as a walk sees it (Program._translated): its
# assignments (lhs, rhs, location, index) and its calls (site, the tested
# fields on the device with their field names, those fields alone, the
# arguments, the result, the callee's parameter -> path).
_Body = Tuple[Tuple[Tuple[Optional[AccessPath], Expr, Location, int], ...],
              Tuple[Tuple[CallSite, Tuple[Tuple[AccessPath, str], ...], Tuple[AccessPath, ...],
                          Tuple[Expr, ...], Optional[AccessPath], Dict[int, AccessPath]], ...]]


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
        self.parent_fields = frozenset(tables.get("hooks", {}).get("parent_fields", []))
        plug = tables.get("hotplug", {})
        self.unpluggable_bases = set(plug.get("unpluggable_bases", []))
        self.default_setters = set(plug.get("default_setters", []))
        self.unplugged_with_creator = set(plug.get("unplugged_with_creator", []))
        self.child_creators = {c["function"]: int(c["type_argument"]) for c in plug.get("child_creators", [])}
        self.once_per_machine = {c["function"]: c["what"] for c in plug.get("once_per_machine", [])}
        # QOM type names defined more than once in the run: name -> files,
        # the first (by path) is the one used
        self.duplicate_types: Dict[str, List[str]] = {}
        self.managed_calls = {m["function"] for m in tables.get("framework", {}).get("managed", [])}
        self.core_files = frozenset(tables.get("framework", {}).get("core_files", []))
        # field names some analysed file writes (TranslationUnit.written)
        # fields some analysed file writes (TranslationUnit.written): the
        # chains written through a variable of each struct type, and the
        # last names of all writes (of those through an unknown type apart)
        self.written_typed: Dict[str, set] = {}
        self.written_last: set = set()
        self.written_untyped_last: set = set()
        for u in self.units:
            in_globals = None
            for w in u.written:
                typ, _, chain = w.partition(":")
                last = chain.rsplit(".", 1)[-1]
                self.written_last.add(last)
                if typ:
                    self.written_typed.setdefault(typ, set()).add(chain)
                else:
                    if in_globals is None:
                        in_globals = _global_value_writes(u)
                    if in_globals.get(chain) is not True:
                        self.written_untyped_last.add(last)
        self._prop_fields: FrozenSet[str] = frozenset()
        self._walk_dev: Optional[DeviceType] = None   # the type whose hooks are being walked
        self.false_during_realize = frozenset(
            t["function"] for t in tables.get("framework", {}).get("false_during_realize", []))
        self.functions: Dict[FunctionKey, Function] = {}
        self.by_name: Dict[str, List[FunctionKey]] = {}
        for unit in self.units:
            for fn in unit.functions.values():
                key = (unit.file, fn.name)
                self.functions[key] = fn
                self.by_name.setdefault(fn.name, []).append(key)
        self._resolved: Dict[Tuple[str, str], Optional[FunctionKey]] = {}
        # function definitions that could not be parsed (and are not also
        # defined, parsed, in the same file)
        self.lost: Dict[FunctionKey, LostFunction] = {}
        self.lost_by_name: Dict[str, List[FunctionKey]] = {}
        for unit in self.units:
            for lost in unit.lost_functions:
                key = (unit.file, lost.name)
                if lost.name and key not in self.functions and key not in self.lost:
                    self.lost[key] = lost
                    self.lost_by_name.setdefault(lost.name, []).append(key)
        self.call_graph = nx.DiGraph()
        for key, fn in self.functions.items():
            self.call_graph.add_node(key)
            for site in fn.calls:
                target = self.resolve(key[0], site.callee)
                if target is not None:
                    self.call_graph.add_edge(key, target)
        self.types: Dict[str, DeviceType] = {}
        self._build_types()
        self._index_indirect_calls()
        self._event_cache: Dict[Tuple[str, str], List[Event]] = {}
        self._store_cache: Dict[Tuple[str, str], List[Store]] = {}
        self._segment_cache: Dict[Tuple[str, str], List[List[Event]]] = {}
        # walk key -> [(the class callbacks it resolved and how, (events, stores))]
        self._walk_cache: Dict[tuple, List[tuple]] = {}
        # (phase, entry function, its parameters' paths, type) -> (events, stores)
        # (phase, entry function, its parameters' paths) -> [(class callbacks
        # consulted, the type when the walk depends on it, (events, stores))]
        self._entry_cache: Dict[tuple, List[tuple]] = {}
        # (function, parameter -> path) -> its body translated (_translated)
        self._bodies: Dict[tuple, _Body] = {}
        self._owner_used = False
        # bounds of the walk under way (a hook's, or a runtime entry's)
        self._depth_limit = MAX_CALL_DEPTH
        self._events_limit = MAX_PHASE_EVENTS
        self._consulted: Dict[Tuple[str, str], Tuple[FunctionKey, ...]] = {}
        self._subtypes: Optional[Dict[str, List[str]]] = None
        self._class_unions: Dict[Tuple[str, str, str], Tuple[FunctionKey, ...]] = {}

    # -- functions ---------------------------------------------------------
    def initialiser(self, file: str, name: str) -> Tuple[Tuple[str, str], ...]:
        """The named fields of the file-scope initialiser ``name`` of
        ``file`` (TranslationUnit.initialisers); () when unknown."""
        unit = self._unit_by_file.get(file)
        return unit.initialisers.get(name, ()) if unit is not None else ()

    def unit_of(self, file: str) -> Optional[TranslationUnit]:
        """The unit of ``file`` (None when it is not in the program)."""
        return self._unit_by_file.get(file)

    def resolve(self, file: str, name: Optional[str]) -> Optional[FunctionKey]:
        """The definition a call in ``file`` reaches: the file's own, else a
        unique non-static definition elsewhere."""
        if name is None:
            return None
        key = (file, name)
        if key in self.functions:
            return key
        try:
            return self._resolved[key]  # the functions do not change after __init__
        except KeyError:
            pass
        others = [k for k in self.by_name.get(name, ()) if not self.functions[k].static]
        found = self._resolved[key] = others[0] if len(others) == 1 else None
        return found

    def resolve_lost(self, file: str, name: Optional[str]) -> Optional[FunctionKey]:
        """The lost definition (see ``lost``) a call of ``name`` in
        ``file`` would reach, as ``resolve`` would find it had it been
        parsed: none when a parsed definition is reached."""
        if name is None or name not in self.lost_by_name or self.resolve(file, name) is not None:
            return None
        if (file, name) in self.lost:
            return (file, name)
        others = [k for k in self.lost_by_name[name] if not self.lost[k].static]
        if len(others) == 1 and not any(not self.functions[k].static for k in self.by_name.get(name, ())):
            return others[0]
        return None

    # -- QOM types ---------------------------------------------------------
    def _build_types(self) -> None:
        bindings_by_fn: Dict[FunctionKey, List[HookBinding]] = {}
        for unit in self.units:
            for b in unit.bindings:
                bindings_by_fn.setdefault((unit.file, b.function), []).append(b)
        self._bindings_by_fn = bindings_by_fn
        for unit in self.units:  # sorted by file: the first definition of a name wins
            for rec in unit.types:
                self._add_type(rec, unit.file, (unit.file,))
            for rec, files in self._instantiate(unit):
                self._add_type(rec, unit.file, files)
        for dev in self.types.values():
            self._inherit(dev)
        for dev in self.types.values():
            dev.unpluggable, dev.unplug_reason = self._unpluggable(dev)
        self._built_in_once()
        self._through_creators()

    def _add_type(self, rec: TypeInfoRecord, file: str, files: Tuple[str, ...]) -> None:
        if rec.name in self.types:
            names = self.duplicate_types.setdefault(rec.name, [self.types[rec.name].file])
            names.append(file)
            return
        dev = DeviceType(name=rec.name, parent=rec.parent, record=rec, file=file, search_files=files)
        if rec.instance_init:
            self._add_hook(dev, "instance_init", file, rec.instance_init, rec.loc,
                           "TypeInfo.instance_init")
        if rec.instance_finalize:
            self._add_hook(dev, "instance_finalize", file, rec.instance_finalize,
                           rec.loc, "TypeInfo.instance_finalize")
        if rec.class_init:
            for b in self._class_bindings(dev, rec.class_init):
                self._bind(dev, file, b)
        self.types[rec.name] = dev

    def _instantiate(self, unit: TranslationUnit):
        """Types a registration helper makes from the structs this unit
        passes it (``virtio_pci_types_register(&virtio_net_pci_info)``)."""
        for call in unit.template_calls:
            helper = self.resolve(unit.file, call.callee)
            if helper is None:
                continue
            templates = [t for t in self._templates_of(helper[0]) if t.function == helper[1]
                         and t.param == call.arg]
            row = dict(call.row)
            # a type the entry does not name (no base_name): the helper
            # registers it under a name made at run time
            # (virtio_pci_types_register: "%s-base-type"); a type whose
            # parent is that name takes its parent and instance hooks
            unnamed: Dict[str, Dict[str, Optional[str]]] = {}
            for t in templates:
                values: Dict[str, Optional[str]] = {}
                class_data: Tuple[Tuple[str, str], ...] = ()
                parent_param = None
                for fname, kind, value, default in t.fields:
                    if kind == "const":
                        values[fname] = value
                    elif kind == "param":
                        values[fname] = row.get(value)
                        if fname == "parent":
                            parent_param = value
                    elif kind == "param_or":
                        values[fname] = row.get(value) or default
                    elif kind == "param_self" and fname == "class_data":
                        class_data = call.row
                if not values.get("name"):
                    name_param = [v for f, k, v, _ in t.fields if f == "name" and k == "param"]
                    if name_param:
                        unnamed[name_param[0]] = (values, class_data)
                    continue
                if values.get("parent") is None and parent_param in unnamed:
                    # what QOM would have run for it as the unnamed type's subtype
                    base, base_data = unnamed[parent_param]
                    values["parent"] = base.get("parent")
                    for hook in ("instance_init", "instance_finalize", "class_init"):
                        values[hook] = values.get(hook) or base.get(hook)
                    class_data = class_data or base_data
                rec = TypeInfoRecord(
                    name=values["name"], parent=values.get("parent"), loc=call.loc,
                    instance_init=values.get("instance_init"),
                    instance_finalize=values.get("instance_finalize"),
                    class_init=values.get("class_init"),
                    abstract=_truthy(values.get("abstract")), class_data=class_data,
                    registered_by=f"{call.function}: {call.callee}(&{call.struct})")
                yield rec, (unit.file, helper[0])

    def _templates_of(self, file: str):
        if not hasattr(self, "_templates"):
            self._templates = {u.file: u.type_templates for u in self.units}
        return self._templates.get(file, ())

    def _resolve_for(self, dev: DeviceType, name: Optional[str]) -> Optional[FunctionKey]:
        for file in dev.search_files or (dev.file,):
            key = self.resolve(file, name)
            if key is not None:
                return key
        return None

    def _class_bindings(self, dev: DeviceType, class_init: str, depth: int = 0) -> List[HookBinding]:
        """Bindings made in class_init and in the helpers it calls; a call
        of a class_data function (``t->class_init(klass, NULL)``) adds what
        that function binds."""
        start = self._resolve_for(dev, class_init)
        if start is None or depth > 4:
            return []
        data = dict(dev.record.class_data)
        out: List[HookBinding] = []
        for key in [start] + sorted(nx.descendants(self.call_graph, start)):
            for b in self._bindings_by_fn.get(key, ()):
                if b.field == "" and b.data_field:
                    if data.get(b.data_field):
                        out.extend(self._class_bindings(dev, data[b.data_field], depth + 1))
                else:
                    out.append(b)
        return out

    def _add_hook(self, dev: DeviceType, phase: str, file: str, name: str, loc: Location,
                  bound_by: str) -> None:
        key = self.resolve(file, name) or self._resolve_for(dev, name)
        if key is None:
            lost = self.resolve_lost(file, name)
            for other in dev.search_files:
                lost = lost or self.resolve_lost(other, name)
            if lost is not None:
                refs = dev.lost_hooks.setdefault(phase, [])
                if all(r.function != lost for r in refs):
                    refs.append(HookRef(phase, lost, loc, bound_by, dev.name))
            return
        refs = dev.hooks.setdefault(phase, [])
        if all(r.function != key for r in refs):
            refs.append(HookRef(phase, key, loc, bound_by, dev.name))

    def _bind(self, dev: DeviceType, file: str, b: HookBinding) -> None:
        phase = self.phase_of.get(f"{b.class_type}.{b.field}")
        if phase is None and b.class_type == "":
            phase = {"realize": "realize", "unrealize": "unrealize"}.get(b.field)
        data = dict(dev.record.class_data) if dev.record.class_data else None
        # bound from the table entry the type was registered with, under
        # ``if (info->f)``: only when that holds for this entry
        if data is not None and b.data_cond \
                and _truthy(data.get(b.data_cond.lstrip("!"))) == b.data_cond.startswith("!"):
            return
        if b.field in ("props", "props_"):
            props = b.target or (data.get(b.data_field) if data and b.data_field else None)
            if props and (file, props) not in dev.props:
                dev.props.append((file, props))
            return
        target = b.target
        if data is not None:
            if b.data_field and self._resolve_for(dev, data.get(b.data_field)) is not None:
                target = data[b.data_field]
        if phase is not None and target:
            self._add_hook(dev, phase, file, target, b.loc, f"{b.class_type}.{b.field}")
        elif target and b.class_type and not b.chained:
            key = self.resolve(file, target) or self._resolve_for(dev, target)
            if key is not None:
                dev.callbacks[(b.class_type, b.field)] = key
        elif target is None and not (b.data_field and data is None):
            dev.settings[b.field] = b.value
            dev.settings_from[b.field] = dev.name

    def _inherit(self, dev: DeviceType) -> None:
        """Hooks a type does not bind itself come from its parents; QOM also
        runs every ancestor's instance_init and instance_finalize."""
        seen = {dev.name}
        parent = dev.parent
        while parent in self.types and parent not in seen:
            seen.add(parent)
            pdev = self.types[parent]
            # a hook bound to a function that could not be parsed still
            # overrides the parent's
            own = {phase for phase, refs in dev.lost_hooks.items() if refs}
            for phase, refs in pdev.hooks.items():
                mine = dev.hooks.setdefault(phase, [])
                if phase in ("instance_init", "instance_finalize") or not (mine or phase in own):
                    for r in refs:
                        if all(m.function != r.function for m in mine):
                            mine.append(r)
            for phase, refs in pdev.lost_hooks.items():
                if phase in ("instance_init", "instance_finalize") or not (dev.hooks.get(phase) or phase in own):
                    mine = dev.lost_hooks.setdefault(phase, [])
                    for r in refs:
                        if all(m.function != r.function for m in mine):
                            mine.append(r)
            for k, fn in pdev.callbacks.items():
                dev.callbacks.setdefault(k, fn)
            for k, v in pdev.settings.items():
                if k not in dev.settings:
                    dev.settings[k] = v
                    dev.settings_from[k] = pdev.settings_from.get(k, pdev.name)
            for p in pdev.props:
                if p not in dev.props:
                    dev.props.append(p)
            parent = pdev.parent

    # -- calls through function pointers ------------------------------------
    def _index_indirect_calls(self) -> None:
        """The calls through a function pointer that can be resolved
        statically, by (function, call index):

        - ``("class", struct, field)``: through a field of a class struct
          that is no lifecycle hook (``vic->unrealize(dev)`` with
          ``VirtIOInputClass *vic``): what the class_init of the device's
          type (or of an ancestor) stores there (``DeviceType.callbacks``);
        - ``("ops", field)``: through a field of an ops table
          (``dev->vhost_ops->vhost_backend_cleanup(dev)``): the functions
          file-scope initialisers (``TranslationUnit.initialisers``) put in
          a field of that name, when there are at most ``MAX_OPS_TARGETS``
          and no analysed code assigns a field of that name (a
          ``Notifier``'s ``notify`` is set at run time).

        The call graph gets an edge to every function such a call may
        reach (for any type; for a class field at most ``MAX_CLASS_EDGES``
        of them), so what is reachable from a hook includes them."""
        ops_fields: Dict[str, List[FunctionKey]] = {}
        for unit in self.units:
            for fields in unit.initialisers.values():
                for fname, value in fields:
                    key = self.resolve(unit.file, value) if value and value.isidentifier() else None
                    if key is not None and key not in ops_fields.setdefault(fname, []):
                        ops_fields[fname].append(key)
        class_fields: Dict[Tuple[str, str], set] = {}
        for dev in self.types.values():
            for k, fn in dev.callbacks.items():
                class_fields.setdefault(k, set()).add(fn)
        self._class_fields = frozenset(class_fields)
        self.indirect: Dict[Tuple[FunctionKey, int], tuple] = {}
        self._ops_targets: Dict[str, Tuple[FunctionKey, ...]] = {}
        for key, fn in self.functions.items():
            for site in fn.calls:
                if site.callee is not None or not site.callee_text:
                    continue
                text = site.callee_text
                if _PARENT_HOOK_CALL_RE.search(text) or _CLASS_HOOK_CALL_RE.search(text):
                    continue
                m = _VAR_FIELD_CALL_RE.match(text)
                if m:
                    var, fname = m.groups()
                    ctype = _var_type(fn, var)
                    if ctype.endswith("Class"):
                        if f"{ctype}.{fname}" not in self.phase_of:
                            self.indirect[(key, site.index)] = ("class", ctype, fname)
                            targets = class_fields.get((ctype, fname), ())
                            for target in sorted(targets) if len(targets) <= MAX_CLASS_EDGES else ():
                                self.call_graph.add_edge(key, target)
                        continue
                m = _LAST_FIELD_CALL_RE.search(text)
                if m is None or "(" in text[:m.start()] or m.group(1) in self.written_last:
                    # through a call's result (``DEVICE_GET_CLASS(dev)->realize``),
                    # or a field code assigns (``n->notify = ...``): the
                    # initialisers do not say what it holds
                    continue
                targets = ops_fields.get(m.group(1), ())
                if 0 < len(targets) <= MAX_OPS_TARGETS:
                    self.indirect[(key, site.index)] = ("ops", m.group(1))
                    self._ops_targets[m.group(1)] = tuple(sorted(targets))
                    for target in targets:
                        self.call_graph.add_edge(key, target)

    def class_tests(self, dev: DeviceType, fn: Function) -> Dict[int, bool]:
        """The nodes of ``fn.cfg`` that test whether a class callback is
        there (``if (rpc->interrupts_uninit)``, ``if (!cdc->unrealize)``,
        ``rpc`` a ``*Class *``, the field no lifecycle hook) -> the value
        the tested pointer has for a device of type ``dev``: set when its
        class_init or an ancestor's stores one, NULL when none does
        (``class_targets``); no entry for an abstract type that stores
        none, whose subtypes may, nor for a field no class_init stores a
        function in (``if (k->is_bridge)``: a flag, not a callback)."""
        out: Dict[int, bool] = {}
        for n, node in enumerate(fn.cfg):
            m = _CLASS_TEST_RE.match(node.test or "") if node.kind == "cond" else None
            if m is None:
                continue
            var, fname = m.groups()
            ctype = _var_type(fn, var)
            if not ctype.endswith("Class") or f"{ctype}.{fname}" in self.phase_of \
                    or (ctype, fname) not in self._class_fields:
                continue
            if (ctype, fname) in dev.callbacks:
                out[n] = True
            elif not dev.record.abstract:
                out[n] = False
        return out

    def class_targets(self, dev: DeviceType, ctype: str, fname: str,
                      phase: str) -> Optional[Tuple[FunctionKey, ...]]:
        """What ``klass->fname(...)`` calls in ``phase`` for a device of
        type ``dev`` (``klass`` a ``ctype *``): the function its class_init
        or an ancestor's stored there; () when no class stores one: the
        pointer is NULL (such calls are guarded: ``if (vic->unrealize)``).
        For an abstract type that stores none, any of its subtypes' in
        teardown (what they may release), and None (a call lifecheck
        cannot see into) elsewhere: the acquisitions of one subtype's
        callback are not the base's."""
        got = dev.callbacks.get((ctype, fname))
        if got is not None:
            return (got,)
        if not dev.record.abstract:
            return ()
        if phase not in OPS_TABLE_PHASES:
            return None
        key = (dev.name, ctype, fname)
        union = self._class_unions.get(key)
        if union is None:
            if self._subtypes is None:
                self._subtypes = {}
                for other in self.types.values():
                    for anc in self.ancestors(other.name):
                        self._subtypes.setdefault(anc, []).append(other.name)
            union = self._class_unions[key] = tuple(sorted(
                {self.types[n].callbacks[(ctype, fname)] for n in self._subtypes.get(dev.name, ())
                 if (ctype, fname) in self.types[n].callbacks}))
        return union

    def indirect_targets(self, dev: Optional[DeviceType], key: FunctionKey, index: int,
                         phase: str) -> Optional[Tuple[FunctionKey, ...]]:
        """The functions the call through a function pointer at
        ``fn.calls[index]`` of ``key`` reaches for a device of type
        ``dev`` in ``phase`` (see ``_index_indirect_calls``); None when it
        cannot be resolved (a call lifecheck cannot see into)."""
        how = self.indirect.get((key, index))
        if how is None:
            return None
        if how[0] == "class":
            if dev is None:
                return None
            got = self.class_targets(dev, how[1], how[2], phase)
            self._consulted[how[1:]] = got
            return got
        if phase not in OPS_TABLE_PHASES:
            return None
        return self._ops_targets[how[1]]

    def ancestors(self, name: str) -> List[str]:
        chain, seen = [], {name}
        cur = self.types[name].parent if name in self.types else None
        while cur and cur not in seen:
            chain.append(cur)
            seen.add(cur)
            cur = self.types[cur].parent if cur in self.types else None
        return chain

    def _unpluggable(self, dev: DeviceType) -> Tuple[bool, str]:
        """A device can be unplugged when it is user-creatable and either
        descends from a hot-unpluggable base (rules/tables/hotplug.toml) or
        its class sets ``hotpluggable = true`` itself (beyond the default
        that TYPE_DEVICE sets for everyone)."""
        def setting(name: str) -> Optional[str]:
            if dev.settings_from.get(name) in self.default_setters:
                return None
            return dev.settings.get(name)

        if setting("hotpluggable") in ("false", "0"):
            return False, f"{dev.settings_from.get('hotpluggable', dev.name)} sets hotpluggable = false"
        if setting("user_creatable") in ("false", "0"):
            return False, f"{dev.settings_from.get('user_creatable', dev.name)} sets user_creatable = false"
        for anc in [dev.name] + self.ancestors(dev.name):
            if anc in self.unpluggable_bases:
                return True, f"descends from {anc}"
        if setting("hotpluggable") in ("true", "1"):
            return True, f"{dev.settings_from.get('hotpluggable', dev.name)} sets hotpluggable = true"
        return False, "no hot-unpluggable ancestor"

    def _built_in_once(self) -> None:
        """A device whose realize makes what a machine can have only once
        (``once_per_machine`` of rules/tables/hotplug.toml: the ISA bus) is
        the one the board builds in: a second cannot be realized, so it is
        never hot-added, and the board's own sits where nothing unplugs it
        (a southbridge function, sun4u's ebus on its simba bus)."""
        if not self.once_per_machine:
            return
        found: Dict[FunctionKey, Optional[str]] = {}

        def makes(key: FunctionKey, depth: int = 0) -> Optional[str]:
            if key in found:
                return found[key]
            found[key] = None   # a recursive call finds nothing more
            fn = self.functions.get(key)
            what = None
            for site in (fn.calls if fn is not None else ()):
                if site.callee in self.once_per_machine:
                    what = f"{site.callee}() ({self.once_per_machine[site.callee]})"
                    break
                target = self.resolve(key[0], site.callee) if depth < 2 else None
                if target is not None and target not in self.opaque_calls:
                    what = makes(target, depth + 1)
                    if what:
                        break
            found[key] = what
            return what

        for dev in self.types.values():
            if not dev.unpluggable:
                continue
            for ref in dev.hooks.get("realize", ()):
                what = makes(ref.function)
                if what:
                    dev.unpluggable = False
                    dev.unplug_reason = (f"its realize ({ref.function[1]}) calls {what}, which a machine has "
                                         "only once: it is the board's built-in one, never hot-added or unplugged")
                    break

    def creators(self) -> Dict[str, List[str]]:
        """child type -> the types whose instance_init or realize (bound by
        the type itself) makes a device of it their child with one of the
        ``child_creators`` calls of rules/tables/hotplug.toml
        (``virtio_instance_init_common(obj, &dev->vdev, ..., TYPE_VIRTIO_BLK)``)."""
        out: Dict[str, List[str]] = {}
        for name in sorted(self.types):
            dev = self.types[name]
            for phase in ("instance_init", "realize"):
                for ref in dev.hooks.get(phase, ()):
                    if ref.owner != name:
                        continue
                    for site in self.functions[ref.function].calls:
                        index = self.child_creators.get(site.callee or "")
                        if index is None or index >= len(site.args) or site.args[index].kind != "string":
                            continue
                        child = site.args[index].text.strip('"')
                        if name not in out.setdefault(child, []):
                            out[child].append(name)
        return out

    def _through_creators(self) -> None:
        """A device of an ``unplugged_with_creator`` base (a VirtIODevice)
        is unrealized with the device that holds it (its transport proxy:
        virtio-*-pci, -ccw): it can be unplugged only when one of the types
        that create it, or of their subtypes, can.  One that no analysed
        type creates sits on a bus with no hotplug handler (virtio-mmio),
        unless no type of the run creates any such device (the proxies'
        files were not analysed): then its base decides, as before."""
        if not self.unplugged_with_creator:
            return
        creators = self.creators()
        children: Dict[str, List[str]] = {}
        for dev in self.types.values():
            if dev.parent:
                children.setdefault(dev.parent, []).append(dev.name)

        def subtree(name: str) -> List[str]:
            out, todo = [], [name]
            while todo:
                cur = todo.pop()
                if cur not in out:
                    out.append(cur)
                    todo.extend(sorted(children.get(cur, ())))
            return out

        def based(name: str) -> bool:
            return any(a in self.unplugged_with_creator for a in [name] + self.ancestors(name))

        any_created = any(based(child) for child in creators if child in self.types)
        for name in sorted(self.types):
            dev = self.types[name]
            if not dev.unpluggable or not based(name):
                continue   # it says itself that it cannot be unplugged
            # an abstract type is held wherever one of its subtypes is
            family = [name] + self.ancestors(name) + (subtree(name)[1:] if dev.record.abstract else [])
            mine = [c for n in family for c in creators.get(n, ())]
            if not mine:
                if any_created:
                    dev.unpluggable = False
                    dev.unplug_reason = ("no analysed type creates it as its child (transport proxy): "
                                         "it sits on a bus without a hotplug handler (virtio-mmio)")
                else:
                    dev.unplug_reason += " (no transport proxy among the analysed files)"
                continue
            holders = [t for c in mine for t in subtree(c) if t in self.types]
            pluggable = [t for t in holders if self.types[t].unpluggable and not self.types[t].record.abstract]
            if pluggable:
                first = self.types[pluggable[0]]
                dev.unplug_reason = (f"unrealized with its proxy '{first.name}', which can be hot-unplugged "
                                     f"({first.unplug_reason})")
            else:
                first = self.types[holders[0]]
                dev.unpluggable = False
                dev.unplug_reason = (f"created only by {', '.join(repr(c) for c in mine[:3])}, which cannot be "
                                     f"unplugged ({first.unplug_reason})")

    def properties_of(self, dev: DeviceType):
        """(entry, file, array name) of every static property of the type
        and its ancestors (device_class_set_props)."""
        for file, var in dev.props:
            unit = self._unit_by_file.get(file)
            for entry in (unit.properties.get(var, ()) if unit else ()):
                yield entry, file, var

    # -- what could not be parsed -------------------------------------------
    def lost_reached(self) -> List["LostReach"]:
        """Every function that could not be parsed and that a device type
        binds as a hook, or calls in one of its lifecycle phases (an
        ``Event`` naming it), once per (function, device type, phase), with
        the shortest call chain.  Only the phases whose hooks (or an
        ancestor type's) can reach a call of a lost function in the call
        graph are walked."""
        if not self.lost:
            return []
        callers = set()
        for key, fn in self.functions.items():
            if any(site.callee in self.lost_by_name and self.resolve_lost(key[0], site.callee) is not None
                   for site in fn.calls):
                callers.add(key)
        reaching = set(callers)
        for key in callers:
            reaching |= nx.ancestors(self.call_graph, key)
        best: Dict[Tuple[FunctionKey, str, str], LostReach] = {}

        def keep(r: LostReach) -> None:
            k = (r.lost, r.device, r.phase)
            old = best.get(k)
            if old is None or (len(r.via), r.via) < (len(old.via), old.via):
                best[k] = r

        for name in sorted(self.types):
            dev = self.types[name]
            chain = [dev] + [self.types[a] for a in self.ancestors(name) if a in self.types]
            for phase in PHASES:
                for ref in dev.lost_hooks.get(phase, ()):
                    keep(LostReach(ref.function, self.lost[ref.function].line, name, phase, (), ref.bound_by,
                                   dev.unpluggable, dev.record.abstract))
                if not any(r.function in reaching for d in chain for r in d.hooks.get(phase, ())):
                    continue
                bound = {r.function[1]: r.bound_by for r in dev.hooks.get(phase, ())}
                for ev in self.events(dev, phase):
                    target = self.resolve_lost(ev.function[0], ev.site.callee)
                    if target is not None:
                        keep(LostReach(target, self.lost[target].line, name, phase, ev.via,
                                       bound.get(ev.via[0], ""), dev.unpluggable, dev.record.abstract))
        return sorted(best.values(), key=lambda r: (r.lost, r.phase, r.device))

    # -- lifecycle events --------------------------------------------------
    def events(self, dev: DeviceType, phase: str) -> List[Event]:
        """Every call reachable from the type's hooks for ``phase``."""
        cache_key = (dev.name, phase)
        if cache_key in self._event_cache:
            return self._event_cache[cache_key]
        out: List[Event] = []
        stores: List[Store] = []
        segments: List[List[Event]] = []
        # the fields this type's properties set (for _never_set)
        self._prop_fields = frozenset(field_path(e.field).key() for e, _, _ in self.properties_of(dev))
        self._walk_dev = dev
        for ref in dev.hooks.get(phase, ()):
            owner = ref.owner or dev.name
            # What a walk from a hook finds depends on the phase, the hook,
            # the type that bound it (parent_hooks, class_hooks) and, while
            # realizing, on the fields the type's properties set: types that
            # share all four (device_initfn runs for 1,544 types of hw/)
            # share the walk.
            # A walk that went through class callbacks (``vic->unrealize``)
            # also depends on what they resolve to for this type: it is kept
            # with the resolutions it consulted, and shared by the types that
            # resolve them alike.
            walk_key = (phase, ref.function, owner, self._prop_fields if phase == "realize" else None)
            walked = None
            variants = self._walk_cache.setdefault(walk_key, [])
            for consulted, got in variants:
                if all(self.class_targets(dev, *k, phase) == t for k, t in consulted):
                    walked = got
                    break
            if walked is None:
                walked = ([], [])
                self._consulted = {}
                self._walk_hook(phase, ref, owner, *walked)
                variants.append((tuple(self._consulted.items()), walked))
            if len(out) + len(walked[0]) < MAX_PHASE_EVENTS:
                out.extend(walked[0])
                stores.extend(walked[1])
                segments.append(walked[0])
            else:  # the cap counts the events of the hooks before this one: walk again
                self._consulted = {}
                start = len(out)
                self._walk_hook(phase, ref, owner, out, stores)
                segments.append(out[start:])
        self._event_cache[cache_key] = out
        self._store_cache[cache_key] = stores
        self._segment_cache[cache_key] = segments
        return out

    def segments(self, dev: DeviceType, phase: str) -> List[List[Event]]:
        """``events(dev, phase)`` as the walks it is made of, one list per
        hook, in order: the lists are shared by the types that share the
        walk (an index made over one list serves every such type)."""
        self.events(dev, phase)
        return self._segment_cache[(dev.name, phase)]

    def entry_events(self, dev: DeviceType, phase: str, key: FunctionKey,
                     env: Dict[int, AccessPath]) -> Tuple[List[Event], List[Store]]:
        """Every call (and assignment) reachable from ``key`` when QEMU
        calls it on ``dev`` in ``phase`` with ``env`` (parameter index ->
        path on the device): a callback the device registered (its opaque
        parameter is the device or a field of it), the setter of a QOM
        property.  The walk is the hooks' (helpers inlined, class
        callbacks of ``dev`` resolved); its frames start at ``key``, so
        its events are ordered only against each other."""
        if key not in self.functions:
            return [], []
        sig = tuple(sorted((i, p.key(), p.address_of) for i, p in env.items()))
        # types that resolve the class callbacks the walk went through alike
        # share it (lsi53c810 and lsi53c895a), unless it went through a
        # parent's or the type's own hook, which depends on the type
        variants = self._entry_cache.setdefault((phase, key, sig), [])
        for consulted, owner, walked in variants:
            if (owner is None or owner == dev.name) \
                    and all(self.class_targets(dev, *k, phase) == t for k, t in consulted):
                return walked
        saved = (self._walk_dev, self._prop_fields, self._consulted, self._depth_limit, self._events_limit,
                 self._owner_used)
        self._walk_dev, self._consulted, self._owner_used = dev, {}, False
        self._depth_limit, self._events_limit = MAX_ENTRY_DEPTH, MAX_ENTRY_EVENTS
        self._prop_fields = frozenset()   # read only while realizing
        got: Tuple[List[Event], List[Store]] = ([], [])
        try:
            self._walk(phase, key, dict(env), (key[1],), (), got[0], got[1], {key}, dev.name)
            variants.append((tuple(self._consulted.items()), dev.name if self._owner_used else None, got))
        finally:
            (self._walk_dev, self._prop_fields, self._consulted, self._depth_limit, self._events_limit,
             self._owner_used) = saved
        return got

    def _walk_hook(self, phase: str, ref: HookRef, owner: str, out: List[Event], stores: List[Store]) -> None:
        self._walk(phase, ref.function, {0: AccessPath(SELF)}, (ref.function[1],), (), out, stores,
                   {ref.function}, owner)

    def stores(self, dev: DeviceType, phase: str) -> List[Store]:
        """Every assignment reachable from the type's hooks for ``phase``."""
        self.events(dev, phase)
        return self._store_cache[(dev.name, phase)]

    def never_set(self, dev: DeviceType, path: AccessPath) -> bool:
        """``_never_set`` for a field of ``dev`` (outside a walk)."""
        saved = self._prop_fields
        self._prop_fields = frozenset(field_path(e.field).key() for e, _, _ in self.properties_of(dev))
        try:
            return self._never_set(path, owner=dev.name)
        finally:
            self._prop_fields = saved

    def _never_set(self, path: AccessPath, field: str = "", owner: str = "") -> bool:
        """A field of the device being realized that no property of its type
        sets and no analysed code writes: it is still the zero the object
        was allocated with (object_new() zeroes the instance, qom/object.c
        object_initialize_with_type).  ``field``: "Type:f.g", the test as
        written (``ns->params.zoned`` with ``ns`` an NvmeNamespace *):
        writes through that type are compared field by field, others by
        the last name.  ``owner``: the type whose hook is being walked; a
        write that only the hooks of unrelated types make to their own
        object (``_written_elsewhere_only``) does not set it."""
        if path.root != SELF or path.address_of:
            return False
        names = _field_names(path)
        if not names or any(op in ("*", "[]") for op, _ in path.steps):
            return False
        typ, _, chain = field.partition(":")
        if typ and chain:
            if chain.rsplit(".", 1)[-1] in self.written_untyped_last:
                return False
            if any((w == chain or chain.startswith(w + ".") or w.startswith(chain + "."))
                   and not self._written_elsewhere_only(f"{typ}:{w}", owner, path)
                   for w in self.written_typed.get(typ, ())):
                return False
        elif names[-1] in self.written_last:
            return False
        key = path.key()
        return not any(key == p or key_within(key, p) or key_within(p, key)
                       for p in self._prop_fields | _below_parent(self._prop_fields))

    def _written_elsewhere_only(self, written: str, owner: str, path: AccessPath) -> bool:
        """Every write of ``written`` ("Type:f.g", TranslationUnit.written)
        is an assignment that a hook of other device types makes to its
        own object (``ns->endgrp = ...`` in nvme-ns's realize, with ``ns =
        NVME_NS(dev)``), none of them ``owner``, its ancestors or
        descendants, nor a type ``owner``'s family makes its child: then
        it never lands in an object ``owner`` walks (a struct of the same
        type embedded in another device: NvmeCtrl's own ``namespace``),
        unless some code writes the field where ``owner`` holds it
        (``path``, the test re-based on the device: ``namespace.endgrp``).
        A write made any other way (``&``, ``++``, ``+=``, through another
        variable, in a function something calls) counts as a write."""
        binders = self._self_writers().get(written)
        if not binders or not owner:
            return False
        if self._written_as(".".join(_field_names(path))):
            return False   # written where this device holds it (``s->ns.pool = ...``)
        family = {owner} | set(self.ancestors(owner)) | self._descendants(owner)
        if family & binders:
            return False
        creators = self._creators_cache()
        for child, makers in creators.items():
            if family & set(makers) and ({child} | set(self.ancestors(child))) & binders:
                return False
        return True

    def compute_shared(self) -> None:
        """Compute now the program-wide indexes that walks of any type
        consult (who writes which field, who creates which type, the
        subtypes of each type): before the rules fork (rules/engine.py),
        so both processes share one copy instead of each making its own."""
        self._self_writers()
        self._creators_cache()
        self._children()

    def _self_writers(self) -> Dict[str, FrozenSet[str]]:
        """"Type:f.g" -> the types whose hooks are the only writers of it,
        each write an assignment through the hook's device argument
        (parameter 0, walked as ``self``) in a function nothing calls;
        absent when any write of it is of another kind."""
        cached = getattr(self, "_self_writers_cache", None)
        if cached is not None:
            return cached
        binders: Dict[FunctionKey, set] = {}
        for name, dev in self.types.items():
            for refs in dev.hooks.values():
                for ref in refs:
                    binders.setdefault(ref.function, set()).add(ref.owner or name)
        by_written: Dict[str, set] = {}
        foreign: Dict[str, set] = {}
        for unit in self.units:
            explained: set = set()
            for fn in unit.functions.values():
                key = (unit.file, fn.name)
                for a in fn.assignments:
                    got = _typed_write(fn, a.lhs)
                    if got is None:
                        continue
                    written, through_param0 = got
                    explained.add(written)
                    hook_types = binders.get(key)
                    if through_param0 and hook_types and self.call_graph.in_degree(key) == 0:
                        by_written.setdefault(written, set()).update(hook_types)
                    else:
                        foreign.setdefault(written, set()).add(key[1])
            for w in unit.written:
                if w not in explained:
                    foreign.setdefault(w, set()).add(unit.file)
        out = {w: frozenset(types) for w, types in by_written.items() if w not in foreign}
        self._self_writers_cache = out
        return out

    def _written_as(self, chain: str) -> bool:
        """Some write, through any type, names the field chain ``chain`` or
        one inside it: the device's own path to the field (``ns.pool`` for
        ``s->ns.pool = ...``).  The address of an enclosing struct
        (``&s->ns`` passed to a helper) does not count: what the helper
        writes through it is written through its parameter's type."""
        memo = getattr(self, "_written_as_memo", None)
        if memo is None:
            memo = self._written_as_memo = {}
        if chain not in memo:
            memo[chain] = any(c == chain or c.startswith(chain + ".")
                              for chains in self.written_typed.values() for c in chains)
        return memo[chain]

    def _children(self) -> Dict[str, List[str]]:
        """Type -> the types whose parent it is (made once)."""
        children = getattr(self, "_children_cache", None)
        if children is None:
            children = {}
            for dev in self.types.values():
                if dev.parent:
                    children.setdefault(dev.parent, []).append(dev.name)
            self._children_cache = children
        return children

    def _descendants(self, name: str) -> set:
        children = self._children()
        out, todo = set(), list(children.get(name, ()))
        while todo:
            cur = todo.pop()
            if cur not in out:
                out.add(cur)
                todo.extend(children.get(cur, ()))
        return out

    def _creators_cache(self) -> Dict[str, List[str]]:
        cached = getattr(self, "_creators_memo", None)
        if cached is None:
            cached = self._creators_memo = self.creators()
        return cached

    def _upcast(self, path: AccessPath) -> AccessPath:
        """``path`` handed to a callee, without the QOM parent fields at
        its end when it is their address: ``&g->parent_obj.parent_obj``
        is ``g`` (the parent's struct is the first member, at offset 0:
        ``parent_fields`` of rules/tables/hooks.toml), and the callee's
        QOM cast back (``VIRTIO_GPU(vdev)``) names the device's own
        fields, as when it is handed ``g`` itself."""
        if not path.address_of or not self.parent_fields or not path.steps \
                or path.steps[-1][1] not in self.parent_fields:
            return path
        steps = list(path.steps)
        while steps and steps[-1][1] in self.parent_fields and (steps[-1][0] == "." or len(steps) == 1):
            last = steps.pop()
        if steps:
            return AccessPath(path.root, tuple(steps), True)
        # &s->parent_obj is the pointer s; &x.parent_obj the address of x
        return AccessPath(path.root, (), last[0] == ".")

    def parent_hooks(self, owner: str, hook_field: str) -> List[HookRef]:
        """What ``xc->parent_<hook_field>(...)`` runs inside a hook bound by
        ``owner``: the hooks its parent type has for that phase (its own or
        inherited), which is what class_init saved in the field."""
        phases = {p for k, p in self.phase_of.items() if k.rsplit(".", 1)[-1] == hook_field}
        dev = self.types.get(owner)
        parent = self.types.get(dev.parent) if dev is not None and dev.parent else None
        if parent is None or len(phases) != 1:
            return []
        return list(parent.hooks.get(phases.pop(), ()))

    def class_hooks(self, owner: str, hook_field: str) -> List[HookRef]:
        """What ``k->parent_class.<hook_field>(...)`` runs inside a hook of
        ``owner``: the type's own hook for that phase."""
        phases = {p for k, p in self.phase_of.items() if k.rsplit(".", 1)[-1] == hook_field}
        dev = self.types.get(owner)
        if dev is None or len(phases) != 1:
            return []
        return list(dev.hooks.get(phases.pop(), ()))

    def _translated(self, key: FunctionKey, env: Dict[int, AccessPath]) -> _Body:
        """The body of ``key`` with its parameters replaced by what ``env``
        maps them to: its assignments, and per call the tested fields on
        the device, the arguments, the result and the callee's
        parameters.  The same for every walk that reaches ``key`` with
        the same ``env`` (a helper shared by many hooks and types: on the
        whole hw/, four walk steps in five reach a function with a binding
        already seen), so it is made once per run."""
        sig = (key, tuple(sorted(env.items())))
        body = self._bodies.get(sig)
        if body is not None:
            return body
        fn = self.functions[key]
        assigns = tuple((translate_path(a.lhs.path, env) if a.lhs.path is not None else None,
                         translate_expr(a.rhs, env), a.loc, i) for i, a in enumerate(fn.assignments))
        calls = []
        for site in fn.calls:
            tested: Tuple[Tuple[AccessPath, str], ...] = ()
            if site.guards:
                fields = site.guard_fields if len(site.guard_fields) == len(site.guards) \
                    else ("",) * len(site.guards)
                tested = tuple((p, f) for p, f in ((translate_path(g, env), f)
                                                   for g, f in zip(site.guards, fields)) if p.root == SELF)
            args = tuple([translate_expr(a, env) for a in site.args])
            result = translate_path(site.result, env) if site.result else None
            callee_env = {i: self._upcast(a.path) for i, a in enumerate(args) if a.path is not None}
            calls.append((site, tested, tuple(p for p, _ in tested), args, result, callee_env))
        body = self._bodies[sig] = (assigns, tuple(calls))
        return body

    def _walk(self, phase, key, env, via, frames, out, stores, stack, owner: str = "",
              guards: Tuple[AccessPath, ...] = ()) -> None:
        assigns, calls = self._translated(key, env)
        for lhs, rhs, loc, i in assigns:
            stores.append(Store(phase, lhs, rhs, loc, key, i, frames))
        realizing = phase == "realize"
        dead = self.false_during_realize if realizing else ()
        for site, tested, tested_paths, args, result, callee_env in calls:
            if dead and site.requires and not dead.isdisjoint(site.requires):
                continue  # under a test that is false while realizing
            held = guards
            if tested_paths:
                if realizing and any(self._never_set(p, f, owner) for p, f in tested):
                    continue  # under a test of a field that is still zero
                held = guards + tested_paths
            here = frames + ((key, site.index),)
            out.append(Event(phase, site, key, args, result, via, here, held))
            if site.callee in self.managed_calls or site.callee in self.opaque_calls:
                continue  # the framework releases what these acquire; the API table says what they do
            if site.callee is None:
                m = _PARENT_HOOK_CALL_RE.search(site.callee_text or "")
                refs = self.parent_hooks(owner, m.group(1)) if m else []
                self._owner_used = self._owner_used or bool(m)
                if not m:
                    m = _CLASS_HOOK_CALL_RE.search(site.callee_text or "")
                    refs = self.class_hooks(owner, m.group(1)) if m else []
                    self._owner_used = self._owner_used or bool(m)
                if not m:
                    targets = self.indirect_targets(self._walk_dev, key, site.index, phase)
                    if targets and callee_env and len(via) < self._depth_limit and len(out) < self._events_limit:
                        for target in targets:
                            if target not in stack and (target[0] not in self.core_files
                                                        or key[0] in self.core_files):
                                self._walk(phase, target, callee_env, via + (target[1],), here, out, stores,
                                           stack | {target}, owner, held)
                    continue
                if m and callee_env and len(via) < self._depth_limit and len(out) < self._events_limit:
                    for ref in refs:
                        if ref.function not in stack:
                            self._walk(phase, ref.function, callee_env, via + (ref.function[1],), here,
                                       out, stores, stack | {ref.function}, ref.owner, held)
                continue
            target = self.resolve(key[0], site.callee)
            if target is None or target in stack or len(via) >= self._depth_limit \
                    or len(out) >= self._events_limit:
                continue
            if target[0] in self.core_files and key[0] not in self.core_files:
                continue  # the qdev core releases what it allocates for the device
            if not callee_env and self.functions[target].params:
                continue  # nothing of the device goes in (a function of no arguments acts on globals)
            self._walk(phase, target, callee_env, via + (target[1],), here, out, stores,
                       stack | {target}, owner, held)


def _var_type(fn: Function, var: str) -> str:
    """The type name of ``fn``'s parameter or local ``var``, without
    qualifiers and stars ("" when it has none)."""
    typ = next((p.type for p in fn.params if p.name == var), None)
    if typ is None and var in fn.locals:
        typ = fn.locals[var].type
    words = [w for w in re.findall(r"[A-Za-z_]\w*", typ or "") if w not in ("const", "volatile", "struct")]
    return words[-1] if words else ""


def _field_names(path: AccessPath) -> List[str]:
    return [name for op, name in path.steps if op in ("->", ".") and name]


def _global_value_writes(unit: TranslationUnit) -> Dict[str, bool]:
    """Field chains the unit writes with no known struct type (a global's
    fields: ``&smbios_type1.serial``), each True when every write of it
    that its assignments and ``&`` arguments show is inside a global
    struct *value* (no ``->`` on the way: no device's memory, which QOM
    allocates), False when one is not (a cast, ``FOO(obj)->f = ``)."""
    out: Dict[str, bool] = {}

    def note(path: Optional[AccessPath]) -> None:
        if path is None or not path.steps:
            return
        chain = ".".join(_field_names(path))
        if not chain:
            return
        inside = path.root_kind == "global" and all(op != "->" and op != "*" for op, _ in path.steps)
        out[chain] = out.get(chain, True) and inside

    for fn in unit.functions.values():
        for a in fn.assignments:
            note(a.lhs.path)
        for site in fn.calls:
            for arg in site.args:
                if (arg.text or "").lstrip().startswith("&"):
                    note(arg.path)
    return out


_LEAD_WRITE_RE = re.compile(r"^\s*(\w+)\s*->\s*(.+?)\s*$")


def _typed_write(fn: Function, lhs: Expr) -> Optional[Tuple[str, bool]]:
    """``v->f.g[i] = ...`` in ``fn``: ("Type:f.g", whether ``v`` is the
    function's parameter 0 itself, after QOM casts and local aliases), in
    TranslationUnit.written's form; None for other left-hand sides."""
    m = _LEAD_WRITE_RE.match(lhs.text or "")
    if m is None or lhs.path is None:
        return None
    var, rest = m.groups()
    typ = next((p.type for p in fn.params if p.name == var), None)
    if typ is None and var in fn.locals:
        typ = fn.locals[var].type
    words = [w for w in re.findall(r"[A-Za-z_]\w*", typ or "") if w not in ("const", "volatile", "struct")]
    if not words:
        return None
    names = [n for n in re.split(r"->|\.", re.sub(r"\[[^\]]*\]", "", rest).replace(" ", ""))]
    if not names or not all(re.fullmatch(r"[A-Za-z_]\w*", n) for n in names):
        return None
    path_names = _field_names(lhs.path)
    through_param0 = lhs.path.root == PARAM + ":0" and path_names == names
    return f"{words[-1]}:{'.'.join(names)}", through_param0


def _below_parent(keys: FrozenSet[str]) -> FrozenSet[str]:
    """Property fields as a hook that gets the embedded parent object
    reaches them: ``DEFINE_PROP_...(VirtIOSCSI, parent_obj.conf.x)`` is
    ``vs->conf.x`` in a helper given the VirtIOSCSICommon (one leading
    field less, the rest the same)."""
    out = set()
    for k in keys:
        head, dot, rest = k.partition(".")
        if dot and head == SELF and "." in rest:
            first, _, tail = rest.partition(".")
            if "[" not in first and "*" not in first:
                out.add(f"{SELF}.{tail}")
    return frozenset(out)


def field_path(dotted: str) -> AccessPath:
    """``params.serial`` -> self->params.serial"""
    names = dotted.split(".")
    return AccessPath(SELF, (("->", names[0]),) + tuple((".", n) for n in names[1:]))


def _truthy(text: Optional[str]) -> bool:
    return text not in (None, "", "0", "false", "NULL")


_PARAM_PREFIX = PARAM + ":"
_PARAM_INDEX: Dict[str, int] = {}  # "param:N" -> N


def translate_path(path: AccessPath, env: Dict[int, AccessPath]) -> AccessPath:
    root = path.root
    if root.startswith(_PARAM_PREFIX):
        idx = _PARAM_INDEX.get(root)
        if idx is None:
            idx = _PARAM_INDEX[root] = int(root.split(":", 1)[1])
        base = env.get(idx)
        if base is not None:
            return path.with_root(base)
        return AccessPath("unknown:" + root, path.steps, path.address_of)
    return path


def translate_expr(expr: Expr, env: Dict[int, AccessPath]) -> Expr:
    """``expr`` with its parameters replaced by what ``env`` maps them to;
    ``expr`` itself when nothing in it changes (most expressions name no
    parameter)."""
    if expr.path is None:
        return expr
    new = translate_path(expr.path, env)
    if expr.args:
        args = tuple([translate_expr(a, env) for a in expr.args])
        if new is expr.path and all(a is b for a, b in zip(args, expr.args)):
            return expr
        return Expr(expr.kind, expr.text, new, expr.callee, args)
    if new is expr.path:
        return expr
    return Expr(expr.kind, expr.text, new, expr.callee, ())
