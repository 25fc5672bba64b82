"""What a device's own asynchronous paths reach: the callbacks it hands to
QEMU (MemoryRegionOps, timers, bottom halves, virtqueue handlers,
chardev, fd and event-notifier handlers, block and DMA completions, RCU
callbacks) and the memory each of them touches through the device.

The registering calls and the calls that cut a callback off are data
(rules/tables/callbacks.toml, checked by ``check_table``).  A callback
is found from a registering call the device makes in one of its
lifecycle phases, or from one made inside another callback (an MMIO
write that starts a DMA whose completion is a callback too).  The walk
from a callback maps its opaque parameter onto the device (root
``self``) and follows its calls through the program, collecting the
field paths it touches (``Function.reads`` and the arguments it passes
on).

This module reads the linked program and the table; it knows nothing of
rules, findings or their configuration.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

from ..graph import DeviceType, Event, FunctionKey, Program, translate_expr, translate_path
from ..model import GLOBAL, LOCAL, SELF, AccessPath, Expr, Location, key_within

# bounds of one callback's walk (functions visited, call depth) and of the
# chain of callbacks registered from callbacks
MAX_WALK_FUNCTIONS = 300
MAX_WALK_DEPTH = 8
MAX_NESTING = 2

# the phases whose registrations a device's callbacks come from: what it
# registers while it is alive, not while it is torn down
REGISTERING_PHASES = ("instance_init", "realize", "runtime")

_REGISTER_KEYS = {"function", "callbacks", "ops", "opaque", "opaque_param", "handle", "inflight", "concurrent",
                  "request"}
_CUTOFF_KEYS = {"function", "handle", "registrations", "when_null", "unmaps", "opaque"}
_MAPPING_KEYS = {"function", "region", "into"}
_BEFORE_HOOK_KEYS = {"hook", "cutoffs", "by"}
_BUS_CHILD_KEYS = {"getter", "type"}


class CallbackTableError(ValueError):
    """rules/tables/callbacks.toml is malformed (the message names the key)."""


@dataclass(frozen=True)
class Registering:
    """A call that registers callbacks (one [[register]] entry)."""

    function: str
    callbacks: Tuple[int, ...] = ()
    ops: Optional[int] = None
    opaque: int = 0
    opaque_param: int = 0
    handle: Optional[int] = None
    # a cut-off does not stop a call already dispatched: a vCPU thread
    # finds a MemoryRegion under RCU, then waits for the BQL, and calls the
    # handler after the teardown that unmapped the region
    inflight: bool = False
    # the callback runs in a thread of its own, not under the BQL: a
    # cut-off later in the same teardown leaves it a window
    concurrent: bool = False
    # one request to a backend or an asynchronous engine (an AIO read, a
    # request for entropy): its completion is called back once, later,
    # whatever the device's teardown did, unless a [[cutoff]] of this very
    # call (cancel, drain) runs in unrealize (request-not-cancelled)
    request: bool = False


@dataclass(frozen=True)
class BusChild:
    """A call by which a device's callbacks reach the device plugged into
    its bus (one [[bus_child]] entry): virtio_bus_get_device() in a virtio
    transport's MMIO handlers."""

    getter: str
    type: str                  # the QOM type the child descends from


@dataclass(frozen=True)
class Cutoff:
    """A call that stops callbacks (one [[cutoff]] entry)."""

    function: str
    handle: Optional[int] = None
    registrations: Tuple[str, ...] = ()
    when_null: Optional[int] = None
    unmaps: str = ""          # every region a [[mapping]] put ``into`` this place
    # argument index of the opaque: when the handles cannot be compared (an
    # fd in a local), a cut-off by the registering function itself with the
    # same opaque matches
    opaque: Optional[int] = None


@dataclass(frozen=True)
class Mapping:
    """A call that maps a region into a place a cut-off removes as a whole
    (pci_register_bar(): the BARs pci_unregister_io_regions() unmaps)."""

    function: str
    region: int
    into: str


def _entries(data: dict, section: str, keys):
    """(where, entry) for each table of ``[[section]]``: tables only, with
    no key outside ``keys``."""
    for i, entry in enumerate(data.get(section, [])):
        where = f"{section}[{i}]."
        if not isinstance(entry, dict):
            raise CallbackTableError(f"{where[:-1]} must be a table")
        unknown = set(entry) - keys
        if unknown:
            raise CallbackTableError(f"{where[:-1]} has unknown keys {sorted(unknown)}")
        yield where, entry


def _function(entry: dict, where: str) -> str:
    fn = entry.get("function")
    if not isinstance(fn, str) or not fn:
        raise CallbackTableError(f"key '{where}function' must be a function name")
    return fn


def _index(entry: dict, key: str, where: str, result: bool = False) -> Optional[int]:
    value = entry.get(key)
    if value is None:
        return None
    low = -1 if result else 0
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise CallbackTableError(f"key '{where}{key}' must be an argument index" + (" or -1" if result else ""))
    return value


@dataclass(frozen=True)
class BeforeHook:
    """Cut-offs the framework makes on the device before it runs a hook
    (pci_qdev_unrealize() unmaps the BARs, then calls PCIDeviceClass.exit)."""

    hook: str                  # the binding, "PCIDeviceClass.exit"
    cutoffs: Tuple[str, ...]   # [[cutoff]] functions (by unmaps or registrations)
    by: str = ""               # the framework function, for readers


def check_table(data: dict) -> Tuple[List[Registering], List[Cutoff], List[Mapping], List[BeforeHook],
                                     List[BusChild]]:
    """The entries of the callbacks table, checked (CallbackTableError
    names the first bad key)."""
    regs: List[Registering] = []
    children: List[BusChild] = []
    cuts: List[Cutoff] = []
    maps: List[Mapping] = []
    befores: List[BeforeHook] = []
    unknown_top = set(data) - {"register", "cutoff", "mapping", "before_hook", "bus_child"}
    if unknown_top:
        raise CallbackTableError(f"unknown keys {sorted(unknown_top)}; "
                                 "allowed: before_hook, bus_child, cutoff, mapping, register")
    for where, entry in _entries(data, "bus_child", _BUS_CHILD_KEYS):
        getter, qom = entry.get("getter"), entry.get("type")
        if not isinstance(getter, str) or not getter:
            raise CallbackTableError(f"key '{where}getter' must be a function name")
        if not isinstance(qom, str) or not qom:
            raise CallbackTableError(f"key '{where}type' must be a QOM type name")
        children.append(BusChild(getter, qom))
    for where, entry in _entries(data, "mapping", _MAPPING_KEYS):
        fn, into = _function(entry, where), entry.get("into")
        if not isinstance(into, str) or not into:
            raise CallbackTableError(f"key '{where}into' must name a place")
        region = _index(entry, "region", where)
        if region is None:
            raise CallbackTableError(f"key '{where}region' is required")
        maps.append(Mapping(fn, region, into))
    for where, entry in _entries(data, "register", _REGISTER_KEYS):
        fn = _function(entry, where)
        cbs = entry.get("callbacks", [])
        if not isinstance(cbs, list) or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0
                                                for c in cbs):
            raise CallbackTableError(f"key '{where}callbacks' must be a list of argument indexes")
        ops = _index(entry, "ops", where)
        if not cbs and ops is None:
            raise CallbackTableError(f"{where[:-1]} ('{fn}') needs 'callbacks' or 'ops'")
        opaque = _index(entry, "opaque", where)
        if opaque is None:
            raise CallbackTableError(f"key '{where}opaque' is required")
        flags = {}
        for flag in ("inflight", "concurrent", "request"):
            flags[flag] = entry.get(flag, False)
            if not isinstance(flags[flag], bool):
                raise CallbackTableError(f"key '{where}{flag}' must be true or false")
        regs.append(Registering(fn, tuple(cbs), ops, opaque, _index(entry, "opaque_param", where) or 0,
                                _index(entry, "handle", where, result=True), **flags))
    for where, entry in _entries(data, "cutoff", _CUTOFF_KEYS):
        fn = _function(entry, where)
        regs_of = entry.get("registrations", [])
        if not isinstance(regs_of, list) or not all(isinstance(r, str) for r in regs_of):
            raise CallbackTableError(f"key '{where}registrations' must be a list of function names")
        handle = _index(entry, "handle", where)
        unmaps = entry.get("unmaps", "")
        if not isinstance(unmaps, str):
            raise CallbackTableError(f"key '{where}unmaps' must name a place")
        if handle is None and not regs_of and not unmaps:
            raise CallbackTableError(f"{where[:-1]} ('{fn}') needs 'handle', 'registrations' or 'unmaps'")
        cuts.append(Cutoff(fn, handle, tuple(regs_of), _index(entry, "when_null", where), unmaps,
                           _index(entry, "opaque", where)))
    known = {r.function for r in regs}
    for i, c in enumerate(cuts):
        for r in c.registrations:
            if r not in known:
                raise CallbackTableError(f"key 'cutoff[{i}].registrations': '{r}' is not a [[register]] function")
    places = {m.into for m in maps}
    for i, c in enumerate(cuts):
        if c.unmaps and c.unmaps not in places:
            raise CallbackTableError(f"key 'cutoff[{i}].unmaps': no [[mapping]] maps into '{c.unmaps}'")
    whole = {c.function for c in cuts if c.unmaps or c.registrations}
    for where, entry in _entries(data, "before_hook", _BEFORE_HOOK_KEYS):
        hook, by, names = entry.get("hook"), entry.get("by", ""), entry.get("cutoffs")
        if not isinstance(hook, str) or "." not in hook:
            raise CallbackTableError(f"key '{where}hook' must be a binding like \"PCIDeviceClass.exit\"")
        if not isinstance(by, str):
            raise CallbackTableError(f"key '{where}by' must be a function name")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise CallbackTableError(f"key '{where}cutoffs' must be a list of [[cutoff]] functions")
        for n in names:
            if n not in whole:
                raise CallbackTableError(f"key '{where}cutoffs': '{n}' is not a [[cutoff]] with "
                                         "'unmaps' or 'registrations'")
        befores.append(BeforeHook(hook, tuple(names), by))
    return regs, cuts, maps, befores, children


@dataclass(frozen=True)
class Access:
    """Memory of the device that a callback touches."""

    path: AccessPath          # rooted at the device (``self``)
    loc: Location
    via: Tuple[str, ...]      # the callback, ..., the function that touches it
    passed: bool = False      # handed to a call (``memcpy(s->buf, ...)``), not read in place
    callee: str = ""          # the call it is handed to


@dataclass(frozen=True)
class Registration:
    """A callback the device registered, with what it is called on."""

    callback: FunctionKey
    name: str                 # the callback function
    slot: str                 # how it is handed over: "foo_ops.read" for an ops table's field, else ""
    event: Optional[Event]    # the registering call, in a lifecycle phase (None: from a callback)
    call: str                 # the registering function
    loc: Location             # where it is registered
    opaque: AccessPath        # what the callback's opaque parameter is, rooted at the device
    opaque_param: int
    handle: Optional[AccessPath]
    parent: Optional["Registration"] = None   # the callback that registered it
    within: str = ""          # the function that makes the registering call
    # a request whose opaque is a per-request structure the registering
    # function points at the device (``req->dev = s``): the field, as
    # "req->dev".  Its callback is not walked (the opaque is not the
    # device), so it reaches no memory; it only counts as a request.
    carrier: str = ""

    @property
    def root(self) -> "Registration":
        r = self
        while r.parent is not None:
            r = r.parent
        return r


class Reach:
    """The callbacks of each device and what they reach (one per run)."""

    def __init__(self, program: Program, table: dict):
        self.program = program
        regs, cuts, maps, befores, children = check_table(table or {})
        self.registering: Dict[str, Registering] = {r.function: r for r in regs}
        self.bus_children: List[BusChild] = children
        self._bus_entries: Optional[Dict[str, List[Registration]]] = None
        self.mappings: Dict[str, Mapping] = {m.function: m for m in maps}
        self.before_hook: Dict[str, List[Cutoff]] = {}
        self.cutoffs: Dict[str, List[Cutoff]] = {}
        for c in cuts:
            self.cutoffs.setdefault(c.function, []).append(c)
        for b in befores:
            for name in b.cutoffs:
                self.before_hook.setdefault(b.hook, []).extend(
                    c for c in self.cutoffs[name] if c.unmaps or c.registrations)
        self._walks: Dict[Tuple[FunctionKey, str, int], Tuple[List[Access], List[Registration]]] = {}
        self._devices: Dict[str, List[Registration]] = {}

    # -- registrations -----------------------------------------------------
    def registrations(self, dev: DeviceType) -> List[Registration]:
        """Every callback ``dev`` registers on itself while alive, and those
        its callbacks register in turn."""
        got = self._devices.get(dev.name)
        if got is not None:
            return got
        out: List[Registration] = []
        for phase in REGISTERING_PHASES:
            for ev in self.program.events(dev, phase):
                if ev.site.callee in self.registering:
                    out.extend(self._from_call(ev.site.callee, ev.function[0], ev.args, ev.result,
                                               ev.site.loc, ev, None, ev.function[1]))
        if self.bus_children:
            # the type itself, not its subclasses: the entries touch the
            # base's struct, whose field names a subclass may reuse for its own
            out.extend(self.bus_entries().get(dev.name, ()))
        seen = {(r.callback, r.opaque.key()) for r in out}
        todo = list(out)
        while todo:
            reg = todo.pop()
            depth = 0
            r = reg
            while r.parent is not None:
                depth += 1
                r = r.parent
            if depth >= MAX_NESTING or reg.carrier:
                continue
            for nested in self.walk(reg)[1]:
                nested = Registration(nested.callback, nested.name, nested.slot, None, nested.call, nested.loc,
                                      nested.opaque, nested.opaque_param, nested.handle, reg, nested.within)
                k = (nested.callback, nested.opaque.key())
                if k not in seen:
                    seen.add(k)
                    out.append(nested)
                    todo.append(nested)
        self._devices[dev.name] = out
        return out

    def bus_entries(self) -> Dict[str, List[Registration]]:
        """QOM type -> the functions another device's callbacks call on the
        child of that type plugged into its bus ([[bus_child]]): in a
        function QEMU calls back (one named in a file-scope initialiser,
        a MemoryRegionOps table), the getter's result handed to a call
        (``vdev = virtio_bus_get_device(&proxy->bus);
        virtio_queue_notify(vdev, n)``).  The child's memory they touch
        is reached while the transport is mapped, whatever the child's
        own teardown cut off.  Computed once per run."""
        if self._bus_entries is not None:
            return self._bus_entries
        got: Dict[str, List[Registration]] = {}
        self._bus_entries = got
        getters = {c.getter: c.type for c in self.bus_children}
        program = self.program
        named: Dict[str, Set[str]] = {}
        seen: Set[Tuple[str, FunctionKey, int]] = set()
        for key, fn in program.functions.items():
            sites = [s for s in fn.calls if s.callee in getters and s.result is not None
                     and not s.result.steps and s.result.root_kind == LOCAL]
            if not sites:
                continue
            names = named.get(key[0])
            if names is None:
                names = named[key[0]] = self._called_back(key[0])
            if key[1] not in names:
                continue   # not called back by QEMU
            for got_site in sites:
                qom, local = getters[got_site.callee], got_site.result.root
                for site in fn.calls:
                    for i, a in enumerate(site.args):
                        if a.path is None or a.path.root != local or a.path.steps or site.callee is None:
                            continue
                        target = program.resolve(key[0], site.callee)
                        if target is None or (qom, target, i) in seen:
                            continue
                        seen.add((qom, target, i))
                        got.setdefault(qom, []).append(Registration(
                            target, site.callee, f"{key[1]}() via {got_site.callee}()", None, got_site.callee,
                            site.loc, AccessPath(SELF, ()), i, None))
        return got

    def _called_back(self, file: str) -> Set[str]:
        """The functions of ``file`` QEMU may call back: named in a
        file-scope initialiser (an ops table) or handed to a call
        (msix_set_vector_notifiers(dev, foo_unmask, ...))."""
        unit = self.program.unit_of(file)
        if unit is None:
            return set()
        out = {n for fields in unit.initialisers.values() for _, n in fields}
        for fn in unit.functions.values():
            for site in fn.calls:
                for a in site.args:
                    name = _function_name(a)
                    if name and name in unit.functions:
                        out.add(name)
        return out

    def finalize_users(self, dev: DeviceType) -> List[Registration]:
        """The type's instance_finalize hooks as users of its memory: they
        run after unrealize, once the last reference is dropped (QOM also
        finalizes the children and regions embedded in the device then)."""
        out = []
        for ref in dev.hooks.get("instance_finalize", ()):
            fn = self.program.functions.get(ref.function)
            if fn is None:
                continue
            out.append(Registration(ref.function, ref.function[1], "", None, "instance_finalize", fn.loc,
                                    AccessPath(SELF, ()), 0, None))
        return out

    def requests(self, dev: DeviceType) -> List[Registration]:
        """The requests ``dev`` makes on itself ([[register]] ``request``):
        completions a backend calls back once with the device (or a
        field of it) as opaque, made in a lifecycle phase or from one of
        its callbacks (a virtqueue handler asking the RNG backend for
        entropy)."""
        return [r for r in self.registrations(dev)
                if r.call in self.registering and self.registering[r.call].request]

    def spec_of(self, reg: Registration) -> Optional[Registering]:
        """The [[register]] entry of the call that registered ``reg``'s
        root (None for bus entries and finalize hooks)."""
        return self.registering.get(reg.root.call)

    def _from_call(self, callee: str, file: str, args, result: Optional[AccessPath], loc: Location,
                   ev: Optional[Event], parent: Optional[Registration], within: str = "") -> List[Registration]:
        spec = self.registering[callee]
        if spec.opaque >= len(args):
            return []
        opaque = args[spec.opaque].path
        if opaque is None or opaque.root != SELF:
            return []   # not called back on the device
        handle = None
        if spec.handle == -1:
            handle = result
        elif spec.handle is not None and spec.handle < len(args):
            handle = args[spec.handle].path
        named: List[Tuple[str, str]] = []
        for i in spec.callbacks:
            name = _function_name(args[i]) if i < len(args) else None
            if name:
                named.append(("", name))
        if spec.ops is not None and spec.ops < len(args):
            table = _function_name(args[spec.ops])
            if table:
                for field, name in self.program.initialiser(file, table):
                    named.append((f"{table}.{field}", name))
        out = []
        for slot, name in named:
            target = self.program.resolve(file, name)
            if target is None:
                continue
            out.append(Registration(target, name, slot, ev, callee, loc, opaque, spec.opaque_param, handle, parent,
                                    within))
        return out

    # -- what a callback reaches -------------------------------------------
    def walk(self, reg: Registration) -> Tuple[List[Access], List[Registration]]:
        """What the callback touches of the device, and the callbacks it
        registers on the device in turn."""
        cache_key = (reg.callback, reg.opaque.key() + ("&" if reg.opaque.address_of else ""),
                     reg.opaque_param)
        got = self._walks.get(cache_key)
        if got is not None:
            return got
        accesses: Dict[str, Access] = {}
        nested: List[Registration] = []
        visited: Set[Tuple[FunctionKey, str]] = set()
        todo = [(reg.callback, {reg.opaque_param: reg.opaque}, (reg.callback[1],))]
        program = self.program
        while todo and len(visited) < MAX_WALK_FUNCTIONS:
            key, env, via = todo.pop()
            sig = (key, repr(sorted((i, p.key(), p.address_of) for i, p in env.items())))
            if sig in visited:
                continue
            visited.add(sig)
            fn = program.functions.get(key)
            if fn is None:
                continue
            for path, loc in fn.reads:
                p = translate_path(path, env)
                if p.root == SELF and p.steps:
                    accesses.setdefault(p.key(), Access(p, loc, via))
            for site in fn.calls:
                paths = [a.path for a in site.args]
                callee_env: Dict[int, AccessPath] = {}
                for i, p in enumerate(paths):
                    if p is None:
                        continue
                    t = translate_path(p, env)
                    if t.root == SELF:
                        callee_env[i] = t
                        if t.steps:
                            accesses.setdefault(t.key() + "()", Access(t, site.loc, via, passed=True,
                                                                       callee=site.callee or ""))
                if site.callee in self.registering and callee_env:
                    args = tuple(translate_expr(a, env) for a in site.args)
                    result = translate_path(site.result, env) if site.result is not None else None
                    made = self._from_call(site.callee, key[0], args, result, site.loc, None, reg, key[1])
                    if not made and self.registering[site.callee].request:
                        made = self._carried(site, fn, env, key, args, result, reg)
                    nested.extend(made)
                    continue
                if not callee_env or len(via) >= MAX_WALK_DEPTH or site.callee in program.opaque_calls \
                        or site.callee in program.managed_calls:
                    continue
                target = program.resolve(key[0], site.callee)
                if target is None or target[0] in program.core_files and key[0] not in program.core_files:
                    continue
                todo.append((target, callee_env, via + (target[1],)))
        got = self._walks[cache_key] = (list(accesses.values()), nested)
        return got

    def _carried(self, site, fn, env, key: FunctionKey, args, result, parent: Registration) -> List[Registration]:
        """A request (``site``, in ``fn``) whose opaque is a local
        structure that ``fn`` points at the device (``req->dev = s;
        blk_aio_preadv(s->blk, ..., foo_rw_done, req)``): its callbacks,
        as registrations that carry the device in that field."""
        spec = self.registering[site.callee]
        if spec.opaque >= len(site.args):
            return []
        local = site.args[spec.opaque].path
        if local is None or local.steps or not local.root.startswith(LOCAL + ":"):
            return []
        field = ""
        for a in fn.assignments:
            lhs, rhs = a.lhs.path, a.rhs.path
            if lhs is None or rhs is None or lhs.root != local.root or len(lhs.steps) != 1:
                continue
            r = translate_path(rhs, env)
            if r.root == SELF and not r.steps:
                field = f"{local}{lhs.steps[0][0]}{lhs.steps[0][1]}"
                break
        if not field:
            return []
        # the callbacks as _from_call names them, with the device as opaque
        device_args = list(args)
        device_args[spec.opaque] = Expr("path", field, AccessPath(SELF, ()))
        out = self._from_call(site.callee, key[0], tuple(device_args), result, site.loc, None, parent, key[1])
        return [Registration(r.callback, r.name, r.slot, None, r.call, r.loc, r.opaque, r.opaque_param, r.handle,
                             parent, key[1], field) for r in out]

    def reaching(self, dev: DeviceType, key: str,
                 regs: Optional[List[Registration]] = None) -> List[Tuple[Registration, Access]]:
        """The callbacks of ``dev`` (or ``regs``) that touch the memory
        ``key`` names (``key``: an access path's key, the object freed):
        an access inside it (``s->buf[i]`` for ``s->buf``), or the
        pointer handed to a call."""
        out = []
        for reg in (self.registrations(dev) if regs is None else regs):
            if reg.carrier:
                continue   # its opaque is the request, not the device
            for acc in self.walk(reg)[0]:
                k = acc.path.key()
                if key_within(k, key) or (acc.passed and k == key and not acc.path.address_of):
                    out.append((reg, acc))
                    break
        return out

    # -- cut-offs ----------------------------------------------------------
    def cuts(self, reg: Registration, ev: Event, containers: Dict[str, str], own: bool = False) -> bool:
        """``ev`` (a call of a teardown) stops ``reg``'s callback:
        ``containers`` maps a region's key to the container it is mapped
        into, so removing a container cuts off what is mapped inside it.
        ``own``: only a cut-off of ``reg``'s own registering call counts,
        not one of the callback that registered it (a request already
        made completes whether or not the virtqueue handler that made it
        is deleted)."""
        return any(self.cut_by(reg, cut, ev, containers, own) for cut in self.cutoffs.get(ev.site.callee or "", ()))

    def cut_by(self, reg: Registration, cut: Cutoff, ev: Optional[Event], containers: Dict[str, str],
               own: bool = False) -> bool:
        """``cut`` (made by ``ev``; None: by the framework, with no
        arguments to read) stops ``reg``'s callback (``own``: see cuts)."""
        root = reg if own else reg.root
        if cut.when_null is not None:
            if ev is None:
                return False
            arg = ev.args[cut.when_null] if cut.when_null < len(ev.args) else None
            if arg is None or not arg.is_null:
                return False
        if cut.registrations:
            return root.call in cut.registrations or reg.call in cut.registrations
        if cut.unmaps:
            k = "@" + cut.unmaps     # the place, as mapped_into names it
        else:
            path = ev.arg_path(cut.handle) if ev is not None and cut.handle is not None else None
            if path is None:
                return False
            k = path.key()
            if cut.opaque is not None and reg.call == cut.function and path.root != SELF \
                    and (reg.handle is None or reg.handle.root != SELF):
                other = ev.arg_path(cut.opaque)
                return other is not None and other.key() == reg.opaque.key()
        for r in (reg, root):
            if r.handle is None:
                continue
            h = r.handle.key()
            seen = set()
            while h and h not in seen:
                if h == k or key_within(h, k):
                    return True
                seen.add(h)
                h = containers.get(h, "")
        return False


def _function_name(expr) -> Optional[str]:
    """The function (or static table) an argument names: ``foo_cb``,
    ``&foo_ops``."""
    p = expr.path
    if p is None or p.steps or not p.root.startswith(GLOBAL + ":"):
        return None
    return p.root.split(":", 1)[1]

