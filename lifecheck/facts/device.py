"""What one device type does in each lifecycle phase, as the rule kinds
need it: its events, the API effects of each call (``Op``), the regions
and memory it created itself, and what it does not own (QOM children,
linked objects, properties qdev releases).

Computed once per device and shared by every rule that runs on it.
"""
from __future__ import annotations

import re
from functools import cached_property
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from ..graph import PHASES, DeviceType, Event, Program, field_path
from ..model import CALL, GLOBAL, PARAM, SELF, AccessPath, CallSite, key_within
from .api import ALL, ApiIndex, Op, list_key
from .order import Order
from .reach import Access, Reach, Registration
from .runtime import RuntimeEntries
from .summary import drop_covered

# what a resource predicate of a rule (``resource_is``) may name
RESOURCE_PREDICATES = {
    "any": "every resource of the family",
    "region": "a memory region the device initialises",
    "region-not-alias-or-container": "a region the device initialises that is neither an alias "
                                     "nor a pure container",
    "not-alias-or-container": "anything but a region known to be an alias or a container",
    "embeds-region": "memory that holds a region the device initialises (g_free(s->sub) where "
                     "&s->sub->mr was initialised)",
    "unowned-region": "a region initialised with a NULL owner",
    "unowned-region-not-alias-or-container": "a region initialised with a NULL owner that is neither an "
                                             "alias nor a pure container (docs/devel/memory.rst lets "
                                             "those be unparented)",
    "embeds-child": "memory that holds a QOM child the device initialised in place "
                    "(object_initialize_child(obj, name, &s->sub->child, ...)): QOM finalizes it "
                    "with the device, after unrealize",
    "reached-async": "memory a callback the device registered (MemoryRegionOps, timer, bottom "
                     "half, virtqueue handler, chardev/fd handler, AIO/DMA completion, RCU) "
                     "still reaches, the callback not being cut off before the release "
                     "(rules/tables/callbacks.toml)",
}


class SegmentFacts:
    """What the device facts need of one walk's events
    (``Program.segments``), made once for all the types that share the
    walk: the regions its calls initialise and the allocations whose result
    it keeps (``regions``, ``allocated``, in event order), and, on first
    use, the API effects of its calls and the calls that have none that
    lifecheck could follow (``ops``, ``unresolved``)."""

    __slots__ = ("events", "regions", "allocated", "ops", "unresolved")

    def __init__(self, events: List[Event], api: ApiIndex, allocators: Set[str]):
        self.events = events   # kept: the cache is keyed by its id
        self.regions: List[Tuple[str, Tuple[str, ...], bool, Event]] = []
        self.allocated: List[str] = []
        for ev in events:
            call = api.lookup_trait(ev.site.callee, "region", "acquire")
            if call is not None:
                path = ev.arg_path(call.resource)
                if path is not None:
                    owner = ev.args[call.owner] if call.owner is not None \
                        and call.owner < len(ev.args) else None
                    self.regions.append((path.key(), call.attrs, owner is not None and owner.is_null, ev))
            if ev.site.callee in allocators and ev.result is not None:
                self.allocated.append(ev.result.key())
        self.ops: Optional[List[Op]] = None
        self.unresolved: List[Event] = []

    def effects(self, api: ApiIndex, program: Program) -> List[Op]:
        if self.ops is None:
            ops: List[Op] = []
            unresolved = self.unresolved
            for ev in self.events:
                effects = api.effects(ev)
                ops.extend(effects)
                if not effects and ev.site.callee not in program.managed_calls \
                        and program.resolve(ev.function[0], ev.site.callee) is None:
                    unresolved.append(ev)
            self.ops = ops
        return self.ops


class DeviceFacts:
    """Facts about one device type, computed on first use."""

    def __init__(self, program: Program, dev: DeviceType, api: ApiIndex, tables: dict,
                 reach: Optional["Reach"] = None, order: Optional["Order"] = None,
                 runtime: Optional[RuntimeEntries] = None,
                 shared: Optional[Dict[int, SegmentFacts]] = None):
        """``shared``: the SegmentFacts of the walks made so far, by id of
        the walk's event list (one dict per run, for every device)."""
        self.program = program
        self.reach = reach
        self.order = order
        self.dev = dev
        self.api = api
        self.events: Dict[str, List[Event]] = {p: program.events(dev, p) for p in PHASES}
        segments: Dict[str, List[List[Event]]] = {p: program.segments(dev, p) for p in PHASES}
        # assignments the callbacks and property setters make (facts/runtime.py)
        self.entry_stores: List = []
        self._stored: Dict[str, FrozenSet[str]] = {}
        if runtime is not None:
            # the runtime hooks, then the callbacks it registered and the
            # setters of its properties
            entry_events, self.entry_stores, entry_segments = runtime.walks(dev)
            self.events["runtime"] = self.events["runtime"] + entry_events
            segments["runtime"] = segments["runtime"] + entry_segments
        self._runs_hooks: Dict[str, List[str]] = dict(tables.get("hooks", {}).get("runs_hooks", {}))
        ownership = tables.get("ownership", {})
        self.outside_calls: Set[str] = set(ownership.get("outside_container_calls", []))
        self.allocators: Set[str] = set(ownership.get("allocators", []))
        self._released_infos = set(ownership.get("framework_released_properties", []))
        # calls that never release what they are given (trace points)
        self._never_release = tuple(ownership.get("never_release_prefixes", []))
        # and calls whose name says they only read it (``*_get_*``), and API
        # calls that only use it (``timer_mod``)
        self._query_words = frozenset(ownership.get("query_words", []))
        self._never_release_calls = frozenset(ownership.get("never_release_calls", []))
        self._link_infos = set(ownership.get("link_properties", []))
        self._link_calls: Dict[str, int] = dict(ownership.get("link_calls", {}))
        self._deferred_bases = set(ownership.get("deferred_finalize_bases", []))
        # the walks the events are made of, each with its facts
        shared = {} if shared is None else shared
        self._segments: Dict[str, List[SegmentFacts]] = {}
        for phase in PHASES:
            made = []
            for seg in segments[phase]:
                facts = shared.get(id(seg))
                if facts is None or facts.events is not seg:
                    facts = shared[id(seg)] = SegmentFacts(seg, api, self.allocators)
                made.append(facts)
            self._segments[phase] = made
        # regions the device initialises: key -> (attrs, event)
        self.regions: Dict[str, Tuple[Set[str], Event]] = {}
        self.allocated: Set[str] = set()
        for phase in PHASES:
            for facts in self._segments[phase]:
                for key, call_attrs, unowned, ev in facts.regions:
                    attrs, _ = self.regions.setdefault(key, (set(), ev))
                    attrs.update(call_attrs)
                    if unowned:
                        attrs.add("unowned")
                self.allocated.update(facts.allocated)

    @cached_property
    def finalize_deferred(self) -> bool:
        """After unplug, instance_finalize waits for RCU: the device owns a
        memory region (one it initialises with itself as owner, or one its
        bus core gives every instance: ``deferred_finalize_bases`` in
        rules/tables/ownership.toml), and FlatViews and address spaces
        drop their references to a region's owner in call_rcu() callbacks
        (system/memory.c flatview_unref(), address_space_destroy()).  In
        between, the main loop runs: handlers left registered at unrealize
        are still called."""
        if self._deferred_bases & ({self.dev.name} | set(self.program.ancestors(self.dev.name))):
            return True
        return any(key.startswith(SELF) and "unowned" not in attrs
                   for key, (attrs, _) in self.regions.items())

    # -- regions and containers (the memory-region rules) -------------------
    def is_region(self, path: AccessPath) -> bool:
        return path.key() in self.regions

    def region_attrs(self, path: AccessPath) -> Set[str]:
        entry = self.regions.get(path.key())
        return entry[0] if entry else set()

    def embeds_region(self, path: AccessPath) -> bool:
        """The object at ``path`` holds a region the device initialised
        (``g_free(s->sub)`` where ``&s->sub->mr`` was initialised), or is
        one (``g_free(s->mr)`` after ``memory_region_init(s->mr, ...)``)."""
        key = path.key()
        if any(key_within(k, key) for k in self.regions):
            return True
        # g_free(s->mr) where the region was initialised in place at s->mr
        # (memory_region_init(s->mr, ...)): the memory is the region itself
        entry = self.regions.get(key)
        if entry is None or path.address_of:
            return False
        call = self.api.lookup_trait(entry[1].site.callee, "region", "acquire")
        init = entry[1].arg_path(call.resource) if call is not None else None
        return init is not None and not init.address_of

    def container_outside(self, path: Optional[AccessPath]) -> Optional[bool]:
        """True: the container lies outside the device; False: the device
        owns it; None: cannot tell (then no finding)."""
        if path is None:
            return None
        kind = path.root_kind
        if kind == CALL:
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

    def resource_matches(self, predicate: str, path: AccessPath, event: Optional[Event] = None) -> bool:
        """``path`` is what ``predicate`` (one of RESOURCE_PREDICATES) names
        (``event``: the call that releases it, for "reached-async")."""
        if predicate == "reached-async":
            return bool(self.async_users(path, event))
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
        if predicate == "unowned-region-not-alias-or-container":
            attrs = self.region_attrs(path)
            return "unowned" in attrs and not attrs & {"alias", "container"}
        if predicate == "embeds-child":
            # a child unparented in the same phase is gone before QOM
            # finalizes the device (ahci_uninit() unparents each port's bus)
            key = path.key()
            phase = event.phase if event is not None else ""
            gone = {op.key for op in self.ops.get(phase, ()) if op.role == "release"}
            return not path.address_of and any(key_within(k, key) and k not in gone
                                                for k in self.embedded_children)
        raise ValueError(f"unknown resource predicate '{predicate}'")

    # -- asynchronous users (freed-in-unrealize by reachability) -----------
    @cached_property
    def mapped_into(self) -> Dict[str, str]:
        """region key -> the key of the container it is mapped into (the
        device's own add_subregion calls), or "@place" for a region a
        mapping call of the callbacks table put into a place
        (pci_register_bar(): "@pci-bars")."""
        out: Dict[str, str] = {}
        mappings = self.reach.mappings if self.reach is not None else {}
        for phase in ("instance_init", "realize"):
            for op in self.ops[phase]:
                if op.role == "acquire" and op.container is not None and op.key is not None:
                    out.setdefault(op.key, op.container.key())
            for ev in self.events[phase]:
                m = mappings.get(ev.site.callee or "")
                path = ev.arg_path(m.region) if m is not None else None
                if path is not None:
                    out.setdefault(path.key(), "@" + m.into)
        return out

    def async_users(self, path: AccessPath, release: Optional[Event]) -> List[Tuple["Registration", "Access"]]:
        """The callbacks of the device that still reach the memory at
        ``path`` when ``release`` frees it: each registered callback that
        touches it and that no call of the same phase before ``release``
        cuts off (timer deleted, region unmapped, handler removed)."""
        if self.reach is None or release is None:
            return []
        key = list_key(path)
        if "[]" in key or "{}" in key or self._unreachable_after(path, release):
            # an element of an array or list (its slot is emptied when it is
            # freed), or a pointer cleared or wiped: what a callback finds
            # there afterwards is not the freed memory
            return []
        users = [(reg, acc) for reg, acc in self.reach.reaching(self.dev, path.key())
                 if not (acc.passed and self.api.lookup_role(acc.callee, "release"))]
        users = [(reg, acc) for reg, acc in users
                 if self.earlier_cutoff(reg, release) is None or self._inflight(reg)]
        if release.phase == "unrealize":
            # instance_finalize runs after unrealize: what it touches of the
            # memory (other than freeing it again: double-release) is used
            # after the free
            families = {op.family for op in self.api.effects(release) if op.role == "release"}
            users += [(reg, acc) for reg, acc in
                      self.reach.reaching(self.dev, path.key(), self.reach.finalize_users(self.dev))
                      if not (acc.passed and any(self.api.lookup(acc.callee, f, "release") for f in families))]
        return users

    def _inflight(self, reg: "Registration") -> bool:
        spec = self.reach.spec_of(reg) if self.reach is not None else None
        return spec is not None and spec.inflight

    def concurrent(self, reg: "Registration") -> bool:
        """``reg``'s callback runs in a thread of its own, outside the BQL."""
        spec = self.reach.spec_of(reg) if self.reach is not None else None
        return spec is not None and spec.concurrent

    def earlier_cutoff(self, reg: "Registration", release: Event):
        """What cuts ``reg``'s callback off before ``release`` in its phase:
        a call of the phase (an Event), or the framework before it runs
        the release's hook (the hook binding, a str); None when nothing
        does.  A callback registered ``inflight`` (MemoryRegionOps) may
        still run after that for a request already dispatched."""
        if self.reach is None:
            return None
        mapped = self.mapped_into
        before, framework = self._cutoffs_before(release)
        for ev in before:
            if self.reach.cuts(reg, ev, mapped):
                return ev
        for bound_by, cut in framework:
            if self.reach.cut_by(reg, cut, None, mapped):
                return bound_by
        return None

    def request_cutoff(self, reg: "Registration", phases: Tuple[str, ...] = ("unrealize",)):
        """What cancels or drains the request ``reg`` in ``phases``: a call
        of its own [[cutoff]] (an Event), or the framework before one of
        the hooks (the hook binding, a str); None when nothing does.  A
        cut-off of the callback that made the request does not count: the
        request completes anyway."""
        if self.reach is None:
            return None
        mapped = self.mapped_into
        for phase in phases:
            for ev in self.events[phase]:
                if ev.site.callee in self.reach.cutoffs and self.reach.cuts(reg, ev, mapped, own=True):
                    return ev
            for ref in self.dev.hooks.get(phase, ()):
                for cut in self.reach.before_hook.get(ref.bound_by, ()):
                    if self.reach.cut_by(reg, cut, None, mapped, own=True):
                        return ref.bound_by
        return None

    def _cutoffs_before(self, release: Event):
        """The cut-off calls of ``release``'s phase that run before it, and
        the (hook binding, cut-off) the framework makes before the hook of
        the release (kept per release)."""
        cache = self.__dict__.setdefault("_before_cache", {})
        got = cache.get(id(release))
        if got is None or got[0] is not release:
            before = [ev for ev in self.events[release.phase]
                      if ev.site.callee in self.reach.cutoffs and ev is not release
                      and self._precedes(ev, release)]
            framework = [(ref.bound_by, cut) for ref in self.dev.hooks.get(release.phase, ())
                         if release.frames and ref.function == release.frames[0][0]
                         for cut in self.reach.before_hook.get(ref.bound_by, ())]
            got = cache[id(release)] = (release, before, framework)
        return got[1], got[2]

    def _unreachable_after(self, path: AccessPath, release: Event) -> bool:
        """After the teardown a callback cannot reach what ``path`` held
        through ``path``: the pointer, or one it is reached through
        (``vsnd->pcm`` for ``vsnd->pcm->streams``), is cleared in the same
        phase (or by the release itself: g_clear_pointer()), or a call
        that wipes an object holding it ran before
        (vhost_dev_cleanup(&s->dev) for ``s->dev.vqs``)."""
        phase = release.phase
        prefixes = [AccessPath(path.root, path.steps[:i]).key() for i in range(1, len(path.steps) + 1)]
        if any(self.cleared(k, (phase,)) for k in prefixes):
            return True
        if any("clears" in op.attrs for op in self.api.effects(release)):
            return True   # g_clear_pointer(&s->p, ...) sets it to NULL
        for op in self.ops[phase]:
            if op.role == "release" and "wipes" in op.attrs and op.key is not None \
                    and any(k == op.key or key_within(k, op.key) for k in prefixes) \
                    and self._precedes(op.event, release):
                return True
        return False

    def _precedes(self, first: Event, second: Event) -> bool:
        """``first`` runs before ``second`` in their phase: in one hook's
        walk (``Order.after``), or ``first`` in a hook that calls the hook
        of ``second`` through its class (pci_qdev_unrealize() calls
        ``pc->exit(pci_dev)``) before that call."""
        if self.order is None:
            return False
        if self.order.after(first, second):
            return True
        if not first.frames or not second.frames or first.frames[0][0] == second.frames[0][0]:
            return False
        root = second.frames[0][0]
        fields = {r.bound_by.rsplit(".", 1)[-1] for r in self.dev.hooks.get(second.phase, ())
                  if r.function == root}
        fn = self.program.functions.get(first.frames[0][0])
        if fn is None or not fields:
            return False
        for site in fn.calls:
            text = (site.callee_text or "").rstrip(") ")
            if site.callee is None and any(text.endswith(("->" + f, "." + f)) for f in fields):
                at = Event(second.phase, site, first.frames[0][0], (), None, (),
                           ((first.frames[0][0], site.index),))
                return self.order.after(first, at)
        return False

    def later_cutoff(self, reg: "Registration", release: Event) -> Optional[Event]:
        """The first call of ``release``'s phase after it that cuts
        ``reg``'s callback off (the order is wrong, not the phase)."""
        if self.reach is None or self.order is None:
            return None
        mapped = self.mapped_into
        for ev in self.events[release.phase]:
            if ev.site.callee in self.reach.cutoffs and ev is not release \
                    and self._precedes(release, ev) and self.reach.cuts(reg, ev, mapped):
                return ev
        return None

    # -- API effects (the acquire/release rules) -----------------------------
    @cached_property
    def ops(self) -> Dict[str, List[Op]]:
        """phase -> what its calls do to resources, in execution order;
        realize also holds what array-property setters allocated before it."""
        out: Dict[str, List[Op]] = {}
        opaque: Dict[str, List[Event]] = {}
        program = self.program
        for phase in PHASES:
            ops: List[Op] = []
            unknown: List[Event] = []
            for facts in self._segments[phase]:
                ops.extend(facts.effects(self.api, program))
                # no effects, no body: unknown unless the device's class
                # resolves the pointer it calls through
                unknown.extend(ev for ev in facts.unresolved
                               if program.indirect_targets(self.dev, ev.function, ev.site.index, phase) is None)
            out[phase] = drop_covered(ops)
            opaque[phase] = unknown
        out["realize"] = out["realize"] + self.property_ops()
        for phase in ("unrealize", "instance_finalize"):
            out[phase] = out[phase] + self.hook_ops(phase)
        self.__dict__["opaque"] = opaque
        return out

    @cached_property
    def opaque(self) -> Dict[str, List[Event]]:
        """phase -> calls lifecheck cannot follow (no body, not in the API
        table, not managed by the framework)."""
        self.ops  # computes both
        return self.__dict__["opaque"]

    def property_ops(self) -> List[Op]:
        """The heap arrays that the setters of the type's array properties
        allocate (DEFINE_PROP_ARRAY): acquired before realize, to be freed
        by the device (as memory of the family with the "heap" trait)."""
        heap = sorted(self.api.with_trait("heap"))
        if not heap:
            return []
        out = []
        for entry, file, var in self.program.properties_of(self.dev):
            if entry.array_field is None:
                continue
            path = field_path(entry.array_field)
            site = CallSite(callee="DEFINE_PROP_ARRAY", args=(), loc=entry.loc, result=path,
                            callee_text="DEFINE_PROP_ARRAY", index=-1)
            ev = Event("realize", site, (file, var), (), path, (var,), ())
            out.append(Op("acquire", heap[0], path, ev))
        return out

    def hook_ops(self, phase: str) -> List[Op]:
        """A hook that is itself an API release of the device (``k->exit =
        pci_bridge_exitfn``): binding it releases what it releases of its
        first parameter, the device, as a call of it would."""
        out = []
        for ref in self.dev.hooks.get(phase, ()):
            for fam, call in self.api.by_function.get(ref.function[1], ()):
                if call.role != "release" or call.resource != 0:
                    continue
                path = AccessPath(SELF)
                site = CallSite(callee=ref.function[1], args=(), loc=ref.loc, result=None,
                                callee_text=ref.function[1], index=-1)
                ev = Event(phase, site, ref.function, (), None, (ref.function[1],), ())
                out.append(Op("release", fam, path, ev, call.attrs))
        return out

    @cached_property
    def children(self) -> Set[str]:
        """Embedded QOM children (object_initialize_child(), qbus_init()):
        what is stored inside them is theirs to release."""
        families = self.api.with_trait("qom-child")
        return {op.key for phase in PHASES for op in self.ops[phase]
                if op.role == "acquire" and op.family in families and op.key is not None}

    @cached_property
    def embedded_children(self) -> Set[str]:
        """QOM children initialised in place (their address handed to
        object_initialize_child()): the parent's finalize unparents them."""
        families = self.api.with_trait("qom-child")
        return {op.key for phase in PHASES for op in self.ops[phase]
                if op.role == "acquire" and op.family in families and op.key is not None
                and op.path.address_of}

    @cached_property
    def framework_released(self) -> Set[str]:
        """Fields of properties qdev releases itself at finalize."""
        return {field_path(entry.field).key()
                for entry, _, _ in self.program.properties_of(self.dev) if entry.info in self._released_infos}

    @cached_property
    def own_objects(self) -> Set[str]:
        """Objects the device sets up inside itself (usb_bus_new(&s->bus))."""
        return {op.key for phase in PHASES for op in self.ops[phase]
                if op.role == "acquire" and op.key is not None and op.path.root == SELF}

    @cached_property
    def links(self) -> Set[str]:
        """Pointers to objects the device only links to (DEFINE_PROP_LINK)."""
        out = {field_path(entry.field).key()
               for entry, _, _ in self.program.properties_of(self.dev) if entry.info in self._link_infos}
        # and link properties added by hand (object_property_add_link(obj,
        # ..., &s->wm, ...) in instance_init)
        for phase in ("instance_init", "realize"):
            for ev in self.events[phase]:
                index = self._link_calls.get(ev.site.callee or "")
                path = ev.arg_path(index) if index is not None else None
                if path is not None and path.root == SELF and path.steps:
                    out.add(path.key())
        return out

    def not_ours(self, key: Optional[str], children: bool = True) -> bool:
        """The resource is released by qdev, lives in an embedded QOM child
        (``children``: the child's unrealize releases it, which a failed
        realize never reaches), or is stored inside an object the device
        only links to."""
        if key is None:
            return False
        return key in self.framework_released or self._released_via_parent(key) \
            or (children and self.in_child(key)) \
            or any(key_within(key, link) for link in self.links)

    def _released_via_parent(self, key: str) -> bool:
        """``key`` names a property field qdev releases, as reached from a
        hook that gets the embedded parent object: ``dev->conf.blk`` in
        ide_dev_initfn(IDEDevice *dev) is the ``dev.conf.blk`` of the
        IDEDrive property (DEFINE_BLOCK_PROPERTIES(IDEDrive, dev.conf)).
        One leading field more, the rest the same."""
        if not key.startswith(SELF + "."):
            return False
        rest = key[len(SELF):]
        for released in self.framework_released:
            if released.endswith(rest) and released.startswith(SELF + "."):
                head = released[len(SELF) + 1:len(released) - len(rest)]
                if head and "." not in head and "[" not in head and "*" not in head:
                    return True
        return False

    def self_contained(self, op: Op) -> bool:
        """Registered into a container the device set up inside itself
        (usb_register_port() onto its own usb_bus_new() bus): nothing
        outside the device reaches it, and it goes away with the device.
        Or a registration of the RAM of a region the device initialised
        itself (the call's ``own-region-ram`` attribute): it goes with the
        region's RAM block."""
        if "own-region-ram" in op.attrs and op.path is not None and self.is_region(op.path):
            return True
        return op.container is not None and op.container.root == SELF \
            and op.container.key() in self.own_objects

    def in_child(self, key: Optional[str]) -> bool:
        """The resource lives inside an embedded QOM child of the device
        and is the child's: the child's own code acquires or releases it,
        or the child's type is not in the program.  What the device itself
        stores into a child whose code never touches it (esp-pci's
        ``s->esp.irq = qemu_allocate_irq(...)``) stays the device's."""
        if key is None:
            return False
        for c in self.children:
            if key_within(key, c):
                touched = self._child_touches.get(c)
                if touched is None:
                    return True
                rel = SELF + key[len(c):]
                if any(rel == t or key_within(rel, t) or key_within(t, rel) for t in touched):
                    return True
        return False

    @cached_property
    def _child_touches(self) -> Dict[str, Set[str]]:
        """child key -> the keys (rooted at the child) its own code acquires
        or releases in any phase, for the embedded children whose creating
        call names a type of the program (``object_initialize_child(obj,
        "esp", &s->esp, TYPE_ESP)``)."""
        families = self.api.with_trait("qom-child")
        out: Dict[str, Set[str]] = {}
        for phase in PHASES:
            for op in self.ops[phase]:
                if op.role != "acquire" or op.family not in families or op.key is None or op.key in out:
                    continue
                child = next((self.program.types[a.text.strip('"')] for a in op.event.args
                              if a.kind == "string" and a.text.strip('"') in self.program.types), None)
                if child is None or child is self.dev:
                    continue
                touched: Set[str] = set()
                for cphase in PHASES:
                    for ev in self.program.events(child, cphase):
                        for cop in self.api.effects(ev):
                            if cop.key is not None and cop.path is not None and cop.path.root == SELF:
                                touched.add(cop.key)
                out[op.key] = touched
        return out

    def released(self, phases: Iterable[str], order=None) -> Set[Tuple[str, str]]:
        """(family, key) of every release in ``phases``; (family, ALL) for
        a release of every resource of a family.  With ``order`` (an
        ``Order``), releases made only on an error path are left out: what
        an error exit frees is not freed when the phase succeeds."""
        out = set()
        for phase in phases:
            for op in self.ops[phase]:
                if op.role == "release" and op.key is not None \
                        and (order is None or not order.on_error_path(op.event)):
                    out.add((op.family, op.key))
                    if "all" in op.attrs:   # virtio_cleanup(): every queue of the device
                        out.add((op.family, ALL))
        return out

    def hook_releases(self, phases: Iterable[str]) -> Set[Tuple[str, str]]:
        """(family, key) of the releases of the runtime hooks that a call
        of ``phases`` runs through the device's class (``[runs_hooks]`` of
        rules/tables/hooks.toml: ``virtio_set_status(vdev, 0)`` in
        unrealize runs VirtioDeviceClass.set_status), those an error exit
        makes apart: they release what ``phases`` releases."""
        bindings: Set[str] = set()
        for phase in phases:
            for ev in self.events[phase]:
                bindings.update(self._runs_hooks.get(ev.site.callee or "", ()))
        hooks = {r.function for r in self.dev.hooks.get("runtime", ()) if r.bound_by in bindings}
        out: Set[Tuple[str, str]] = set()
        if not hooks:
            return out
        for op in self.ops["runtime"]:
            if op.role == "release" and op.key is not None and op.event.frames \
                    and op.event.frames[0][0] in hooks \
                    and (self.order is None or not self.order.on_error_path(op.event)):
                out.add((op.family, op.key))
                if "all" in op.attrs:
                    out.add((op.family, ALL))
        return out

    @cached_property
    def pointer_aliases(self) -> Dict[str, Set[str]]:
        """key of a pointer field -> keys of the device's own objects whose
        address some code stores in it (``n->sq[sqid] = sq`` with ``sq`` =
        ``&n->admin_sq``): a release through the pointer
        (``qemu_bh_delete(n->sq[i]->bh)``) releases the object's field."""
        out: Dict[str, Set[str]] = {}
        stores = [st for phase in PHASES for st in self.program.stores(self.dev, phase)] + self.entry_stores
        for st in stores:
            rhs = st.rhs.path
            if st.lhs is None or st.lhs.root != SELF or rhs is None or rhs.root != SELF \
                    or not rhs.address_of or not rhs.steps:
                continue
            out.setdefault(st.lhs.key(), set()).add(rhs.key())
        return out

    def through_aliases(self, released: Set[Tuple[str, str]]) -> Set[Tuple[str, str]]:
        """``released`` and, for each release made through a pointer of
        ``pointer_aliases``, the same release of the object it points to."""
        aliases = self.pointer_aliases
        if not aliases:
            return released
        out = set(released)
        for fam, key in released:
            for slot, targets in aliases.items():
                if key.startswith(slot) and key[len(slot):len(slot) + 1] == ".":
                    out.update((fam, t + key[len(slot):]) for t in targets)
        return out

    def release_ops(self, phases: Iterable[str], order=None) -> List[Op]:
        """The releases of ``released`` as ops (for keys of a set: the
        releases of a family's every resource are among them)."""
        out = []
        for phase in phases:
            for op in self.ops[phase]:
                if op.role == "release" and op.key is not None \
                        and (order is None or not order.on_error_path(op.event)):
                    out.append(op)
        return out

    def kept_by(self, op: Op) -> Optional[Event]:
        """A call of the same phase and function that makes a resource
        which keeps what ``op`` acquired and releases it itself (the API
        table's ``keeps``: ``s->current = g_new0(lsi_request, 1);
        scsi_req_new(..., s->current)``, whose hba_private the HBA's own
        cancel and complete callbacks free when the request ends)."""
        if op.key is None:
            return None
        for other in self.ops[op.event.phase]:
            ev = other.event
            if other.role != "acquire" or ev is op.event or ev.function != op.event.function:
                continue
            call = self.api.lookup(ev.site.callee, other.family, "acquire")
            if call is None or not call.keeps:
                continue
            for index in call.keeps:
                path = ev.arg_path(index)
                if path is not None and path.key() == op.key:
                    return ev
        return None

    def handed_off(self, phases: Iterable[str], path: AccessPath) -> Optional[Event]:
        """A call lifecheck cannot follow that receives ``path`` or an
        object holding it (``foo_cleanup(s->sub)`` for ``s->sub->timer``).
        A query is no hand-off: a call whose value the caller tests or
        passes on without storing it (``if (vhost_dev_is_started(&s->d))``),
        nor is a trace point (``never_release_prefixes``), a getter
        (``query_words``: ``addr = memory_region_get_ram_ptr(s->bar)``) or
        an API call that only uses it (``never_release_calls``:
        ``timer_mod(s->t, ...)``)."""
        key = path.key()
        for phase in phases:
            for ev in self.opaque[phase]:
                site = ev.site
                if not site.discarded and site.result is None:
                    continue
                if site.callee and (site.callee.startswith(self._never_release)
                                    or site.callee in self._never_release_calls
                                    or not self._query_words.isdisjoint(site.callee.lower().split("_"))):
                    continue
                if site.callee is None and _method_call(site.callee_text, site.args,
                                                        self.program.functions.get(ev.function)):
                    continue
                for arg in ev.args:
                    p = arg.path
                    if p is None or p.root != path.root:
                        continue
                    k = p.key()
                    if k == key or (p.steps and key_within(key, k)):
                        return ev
        return None

    def cleared(self, key: str, phases: Iterable[str]) -> bool:
        """Some code of ``phases`` stores into the resource's field
        (``s->t = NULL``)."""
        return any(key in self._stored_keys(phase) for phase in phases)

    def _stored_keys(self, phase: str) -> FrozenSet[str]:
        """The keys of what the code of ``phase`` stores into."""
        got = self._stored.get(phase)
        if got is None:
            got = self._stored[phase] = frozenset(st.lhs.key() for st in self.program.stores(self.dev, phase)
                                                  if st.lhs is not None)
        return got


_LEAD_VARIABLE_RE = re.compile(r"^\s*&?\s*\(?\s*(\w+)\s*->")


def lead_type(program: Program, ev: Event, index: int = 0) -> Optional[str]:
    """The declared struct type of the variable an argument of ``ev`` is
    reached through (``VhostVdpaDevice`` for ``g_free(v->config)`` with
    ``VhostVdpaDevice *v``), or None when the argument does not start with
    a plain variable and ``->``.  Access paths ignore types (QOM casts are
    transparent), so two paths with the same key reached through
    different struct types may name two different fields that share a
    name: a subtype's own ``config`` and its parent's."""
    if not 0 <= index < len(ev.site.args):
        return None
    m = _LEAD_VARIABLE_RE.match(ev.site.args[index].text or "")
    fn = program.functions.get(ev.function)
    if m is None or fn is None:
        return None
    name = m.group(1)
    typ = next((p.type for p in fn.params if p.name == name), None)
    if typ is None and name in fn.locals:
        typ = fn.locals[name].type
    if typ is None:
        return None
    words = [w for w in typ.replace("*", " ").split() if w not in ("const", "struct", "volatile")]
    return " ".join(words) or None


_METHOD_RE = re.compile(r"^\(?\s*([A-Za-z_]\w*)\s*->\s*(\w+)\s*->\s*\w+\s*\)?$")
_LOCAL_METHOD_RE = re.compile(r"^\(?\s*([A-Za-z_]\w*)\s*->\s*\w+\s*\)?$")


def _method_call(callee_text: str, args, fn) -> bool:
    """``dev->vhost_ops->vhost_set_features_ex(dev, ...)``, or the same
    through a local copy of the table (``ops = dev->vhost_ops;
    ops->f(dev)``): a call through an ops table the object holds, given
    the object itself -- a method of a back end acting on the object
    (sending it a message, asking a feature), not a hand-off of it: what
    the object holds is still the caller's to release
    (vhost_dev_cleanup() for a vhost_dev)."""
    if not args or args[0].path is None or args[0].path.steps:
        return False
    first = args[0].path.root
    m = _METHOD_RE.match(callee_text or "")
    if m is not None:
        kind, _, name = first.partition(":")
        if kind == PARAM:
            params = getattr(fn, "params", None) or ()
            index = int(name) if name.isdigit() else -1
            name = params[index].name if 0 <= index < len(params) else ""
        return name == m.group(1)
    m = _LOCAL_METHOD_RE.match(callee_text or "")
    if m is None or fn is None:
        return False
    table = "local:" + m.group(1)
    for a in getattr(fn, "assignments", ()):
        lhs, rhs = a.lhs.path, a.rhs.path
        if lhs is not None and rhs is not None and lhs.root == table and not lhs.steps \
                and rhs.root == first and len(rhs.steps) == 1 and rhs.steps[0][0] == "->":
            return True
    return False
