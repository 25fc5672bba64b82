"""Lifecycle graphs: what a device does in each phase, as a picture's model.

A ``LifecycleGraph`` is built from a linked ``graph.Program``, the catalog
(API families say which calls acquire, release or disarm what; the
``entrypoints`` table says which framework function runs each hook) and the
findings of the run.  For each device type it holds, per lifecycle phase:
the framework functions that run the hooks, the hooks (own, inherited, and
parents' hooks reached through ``device_class_set_parent_*`` chaining), the
helpers on the way from a hook to an acquire or release call, and those
calls.  Findings mark acquire sites whose release is missing and releases
made in the wrong phase; what a finding says is wrong, and where its
release was expected, comes from the finding itself (its ``shape`` and
``expected_phases``), never from rule configuration.

This module is the view model only: renderers (report/dot.py,
report/mermaid.py) turn it into text.  It knows nothing about output
syntax, and it never runs rules itself: it shows the findings it is given.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .facts.api import ApiIndex
from .findings import Finding
from .graph import PHASES, DeviceType, Event, FunctionKey, HookRef, Program
from .model import Location
from .rules.catalog import Catalog

# Phases in the order a device lives through them.  The four lifecycle
# phases are always drawn; others (runtime: hooks a realized device runs,
# such as reset) only when the device has hooks there.
LIFECYCLE = ("instance_init", "realize", "unrealize", "instance_finalize")
_ORDER = ("instance_init", "realize", "runtime", "unrealize", "instance_finalize")
DRAWN_PHASES = tuple(p for p in _ORDER if p in PHASES or p in LIFECYCLE) + \
    tuple(p for p in PHASES if p not in _ORDER)

# Node kinds, in the order they are listed inside a phase.
KINDS = ("entry", "hook", "helper", "site", "finding", "missing")
ROLE_ORDER = ("acquire", "release", "disarm")

# Shared by the renderers so a phase has one colour in every format:
# (fill, border).
PHASE_COLOURS = {
    "instance_init": ("#dbeafe", "#1d4ed8"),
    "realize": ("#dcfce7", "#15803d"),
    "unrealize": ("#f3e8ff", "#7e22ce"),
    "instance_finalize": ("#e5e7eb", "#374151"),
    "runtime": ("#fef9c3", "#a16207"),
}
OTHER_PHASE_COLOURS = ("#f5f5f4", "#57534e")
STATUS_COLOURS = {"missing": "#dc2626", "misplaced": "#ea580c"}
FRAMEWORK_COLOUR = "#6b7280"


class UnknownTypeError(Exception):
    """A requested QOM type is not defined in the analysed files."""


@dataclass(frozen=True)
class Node:
    id: str
    kind: str                       # one of KINDS
    phase: str
    lines: Tuple[str, ...]          # label, first line is the title
    loc: Optional[Location] = None
    role: str = ""                  # sites: acquire | release | disarm
    status: str = ""                # "" | "missing" | "misplaced"
    tooltip: str = ""


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    label: str = ""
    style: str = ""                 # "" | "framework" | "chained" | "missing"
    status: str = ""                # "" | "missing" | "misplaced"


@dataclass
class DeviceGraph:
    device: str
    file: str
    ancestors: Tuple[str, ...]
    unpluggable: bool
    unplug_reason: str
    phases: Tuple[str, ...] = LIFECYCLE                           # drawn, in order
    nodes: Dict[str, List[Node]] = field(default_factory=dict)   # phase -> nodes
    edges: List[Edge] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)

    @property
    def id(self) -> str:
        return "dev_" + _ident(self.device)

    def all_nodes(self) -> List[Node]:
        return [n for phase in self.phases for n in self.nodes.get(phase, [])]


@dataclass
class LifecycleGraph:
    devices: List[DeviceGraph] = field(default_factory=list)


# -- selecting device types ----------------------------------------------------

def select_types(program: Program, requested: Optional[Sequence[str]]) -> List[str]:
    """The QOM type names to draw.  Without ``requested``: every type defined
    in the analysed files that has a lifecycle hook.  An unknown name raises
    UnknownTypeError naming the closest candidates."""
    known = sorted(program.types)
    if not requested:
        return [n for n in known if any(program.types[n].hooks.get(p) for p in PHASES)]
    out: List[str] = []
    for name in requested:
        if name in program.types:
            if name not in out:
                out.append(name)
            continue
        close = difflib.get_close_matches(name, known, n=5, cutoff=0.6)
        if close:
            hint = "did you mean: " + ", ".join(close) + "?"
        elif known:
            shown = known[:30]
            more = f" (and {len(known) - len(shown)} more)" if len(known) > len(shown) else ""
            hint = "types defined in the analysed files: " + ", ".join(shown) + more
        else:
            hint = "the analysed files define no QOM types"
        raise UnknownTypeError(f"no QOM type '{name}' in the analysed files; {hint}")
    return out


# -- building ------------------------------------------------------------------

def build(program: Program, catalog: Catalog, findings: Iterable[Finding], names: Sequence[str],
          version: Optional[Tuple[int, ...]] = None) -> LifecycleGraph:
    """The lifecycle graph of the device types ``names``."""
    findings = list(findings)
    # families in name order: a site's label lists them in that order
    api = ApiIndex(sorted(catalog.families.values(), key=lambda f: f.name), version)
    callers = dict(catalog.tables.get("entrypoints", {}).get("callers", {}))
    graph = LifecycleGraph()
    for name in names:
        dev = program.types[name]
        mine = [f for f in findings if _applies(program, f, dev)]
        graph.devices.append(_DeviceBuilder(program, api, callers, dev, mine).build())
    return graph


def _hook_signature(dev: DeviceType) -> Tuple:
    return tuple(tuple(sorted(r.function for r in dev.hooks.get(p, ()))) for p in PHASES)


def _applies(program: Program, finding: Finding, dev: DeviceType) -> bool:
    """A finding belongs to ``dev`` when it was reported for it, or for a type
    whose hooks are exactly the same (the run reports a shared hook once,
    under one of the types that share it)."""
    if finding.device == dev.name:
        return True
    other = program.types.get(finding.device)
    return other is not None and _hook_signature(other) == _hook_signature(dev)


@dataclass
class _HookEntry:
    ref: HookRef
    owner: str                  # the type whose events start at this hook
    chained_from: Optional[str]  # node id of the hook that calls it through parent_<field>


class _DeviceBuilder:
    def __init__(self, program: Program, api: ApiIndex, callers: dict,
                 dev: DeviceType, findings: List[Finding]):
        self.program = program
        self.api = api
        self.callers = callers
        self.dev = dev
        self.findings = sorted(findings, key=lambda f: f.sort_key())
        self.prefix = "dev_" + _ident(dev.name)
        self.nodes: Dict[str, Node] = {}
        self.edges: Set[Edge] = set()
        self.chained_locs = {b.loc for u in program.units for b in u.bindings if b.chained}
        self.sites: Dict[Tuple[str, Location, str], str] = {}   # (phase, loc, callee) -> node id
        self.site_families: Dict[str, List[str]] = {}

    # nodes and edges
    def _node_id(self, key: Tuple) -> str:
        return f"{self.prefix}__{_ident('_'.join(str(k) for k in key))}"

    def _node(self, key: Tuple, kind: str, phase: str, lines: Sequence[str], **kw) -> str:
        node_id = self._node_id(key)
        if node_id not in self.nodes:
            self.nodes[node_id] = Node(node_id, kind, phase, tuple(lines), **kw)
        return node_id

    def _edge(self, src: str, dst: str, **kw) -> None:
        self.edges.add(Edge(src, dst, **kw))

    def build(self) -> DeviceGraph:
        dev = self.dev
        added = []
        for phase in DRAWN_PHASES:
            for entry in self._hook_entries(phase):
                added.append((phase, entry, self._add_hook(phase, entry)))
        # events after every hook exists: a parent's hook reached through
        # parent_realize() is drawn as that hook, not as a helper
        for phase, entry, hook_id in added:
            ref = entry.ref
            for ev in self.program.events(self.program.types[entry.owner], phase):
                if ev.via and ev.via[0] == ref.function[1]:
                    self._add_event(phase, ref, hook_id, ev)
        for f in self.findings:
            self._add_finding(f)
        out = DeviceGraph(device=dev.name, file=dev.file,
                          ancestors=tuple(self.program.ancestors(dev.name)),
                          unpluggable=dev.unpluggable, unplug_reason=dev.unplug_reason,
                          findings=list(self.findings))
        order = {k: i for i, k in enumerate(KINDS)}
        for node in self.nodes.values():
            out.nodes.setdefault(node.phase, []).append(node)
        out.phases = tuple(p for p in DRAWN_PHASES if p in LIFECYCLE or p in out.nodes)
        for phase in out.nodes:
            out.nodes[phase].sort(key=lambda n: (order[n.kind], n.loc or Location("", 0), n.id))
        rank = {n.id: i for i, n in enumerate(out.all_nodes())}
        out.edges = sorted(self.edges, key=lambda e: (rank.get(e.src, -1), rank.get(e.dst, -1), e.src,
                                                     e.dst, e.label, e.style, e.status))
        return out

    # hooks
    def _hook_entries(self, phase: str) -> List[_HookEntry]:
        refs = list(self.dev.hooks.get(phase, ()))
        if phase == "instance_init":
            # QOM runs the ancestors' instance_init first
            depth = {r.function: self._depth(self._definer(phase, r)) for r in refs}
            refs.sort(key=lambda r: -depth[r.function])
        entries = [_HookEntry(r, self.dev.name, None) for r in refs]
        out: List[_HookEntry] = []
        seen: Set[FunctionKey] = set()
        while entries:
            entry = entries.pop(0)
            if entry.ref.function in seen:
                continue
            seen.add(entry.ref.function)
            out.append(entry)
            if entry.ref.loc in self.chained_locs:
                definer = self._definer(phase, entry.ref)
                parent = self._parent_with_hooks(definer, phase)
                hook_id = self._hook_id(phase, entry.ref)
                if parent is not None:
                    entries[:0] = [_HookEntry(r, parent, hook_id)
                                   for r in self.program.types[parent].hooks[phase]]
                else:
                    self._unknown_parent_hook(phase, entry.ref, definer, hook_id)
        return out

    def _unknown_parent_hook(self, phase: str, ref: HookRef, definer: str, hook_id: str) -> None:
        """The chained parent hook is defined in a file that was not analysed."""
        chain = self.program.ancestors(definer)
        parent = chain[0] if chain else (self.program.types[definer].parent or "?"
                                         if definer in self.program.types else "?")
        field_name = ref.bound_by.split(".")[-1]
        node_id = self._node(("parent", phase, ref.function[0], ref.function[1]), "entry", phase,
                             [f"{field_name} of {parent}", "(its file was not analysed)"])
        self._edge(hook_id, node_id, label=f"parent_{field_name}", style="chained")

    def _depth(self, name: str) -> int:
        return len(self.program.ancestors(name)) if name in self.program.types else 0

    def _definer(self, phase: str, ref: HookRef) -> str:
        """The type that binds ``ref`` itself: the farthest of the device and
        its ancestors whose hooks still hold it."""
        found = self.dev.name
        for name in [self.dev.name] + self.program.ancestors(self.dev.name):
            t = self.program.types.get(name)
            if t is not None and any(r.function == ref.function for r in t.hooks.get(phase, ())):
                found = name
        return found

    def _parent_with_hooks(self, name: str, phase: str) -> Optional[str]:
        for anc in self.program.ancestors(name):
            if anc in self.program.types and self.program.types[anc].hooks.get(phase):
                return anc
        return None

    def _hook_id(self, phase: str, ref: HookRef) -> str:
        return f"{self.prefix}__{_ident('_'.join(('hook', phase, ref.function[0], ref.function[1])))}"

    def _add_hook(self, phase: str, entry: _HookEntry) -> str:
        ref = entry.ref
        fn = self.program.functions[ref.function]
        binding = ref.bound_by.lstrip(".") if ref.bound_by.startswith(".") else ref.bound_by
        how = [binding if not ref.bound_by.startswith(".") else f"{binding} (class not known)"]
        definer = self._definer(phase, ref)
        if definer != self.dev.name:
            how.append(f"inherited from {definer}")
        chained = ref.loc in self.chained_locs
        if chained:
            how.append(f"chained via device_class_set_parent_{ref.bound_by.split('.')[-1]}")
        hook_id = self._node(("hook", phase, ref.function[0], ref.function[1]), "hook", phase,
                             [f"{fn.name}()", ", ".join(how), _where(fn.loc)], loc=fn.loc)
        if entry.chained_from is not None:
            field_name = ref.bound_by.split(".")[-1]
            self._edge(entry.chained_from, hook_id, label=f"parent_{field_name}", style="chained")
        else:
            self._add_entry_chain(phase, ref.bound_by, hook_id)
        return hook_id

    def _add_entry_chain(self, phase: str, binding: str, hook_id: str) -> None:
        target, seen = hook_id, set()
        while binding in self.callers and binding not in seen:
            seen.add(binding)
            info = self.callers[binding]
            function = str(info.get("function", "?"))
            lines = [f"{function}()", f"{info.get('file', '?')} (QEMU core)"]
            if info.get("note"):
                lines.append(str(info["note"]))
            entry_id = self._node(("entry", phase, function), "entry", phase, lines)
            self._edge(entry_id, target, label=binding if target == hook_id else "",
                       style="framework")
            target = entry_id
            binding = str(info.get("via", ""))

    # helpers and acquire/release sites
    def _add_event(self, phase: str, ref: HookRef, hook_id: str, ev: Event) -> None:
        calls = self.api.by_function.get(ev.site.callee or "", ())
        if calls:
            # the entries this call is, as the rules see it (an API entry
            # chosen by its arguments, an Error set into errp, ...)
            done = {(op.family, op.role) for op in self.api.effects(ev)}
            calls = [(fam, c) for fam, c in calls if (fam, c.role) in done]
        if not calls:
            return
        # the chain of functions from the hook to the caller, as node ids
        chain = [hook_id]
        for key, _ in ev.frames[1:]:
            fn = self.program.functions[key]
            hook_node = self._node_id(("hook", phase, key[0], key[1]))
            if hook_node in self.nodes:
                step = hook_node   # a parent's hook reached through parent_realize()
            else:
                step = self._node(("helper", phase, key[0], key[1]), "helper", phase,
                                  [f"{fn.name}()", _where(fn.loc)], loc=fn.loc)
            if step != chain[-1] and not any(e.src == chain[-1] and e.dst == step for e in self.edges):
                self._edge(chain[-1], step)
            chain.append(step)
        roles = sorted({c.role for _, c in calls}, key=_role_rank)
        families = sorted({fam for fam, _ in calls})
        first = sorted(calls, key=lambda fc: (_role_rank(fc[1].role), fc[0]))[0][1]
        path = ev.arg_path(first.resource)
        resource = str(path) if path is not None else "?"
        callee = ev.site.callee or "?"
        title = f"{callee} -> {resource}" if first.resource == -1 else f"{callee}({resource})"
        site_key = (phase, ev.site.loc, callee)
        site_id = self.sites.get(site_key)
        if site_id is None:
            site_id = self._node(("site", phase, ev.site.loc.file, ev.site.loc.line, ev.site.loc.col,
                                  callee), "site", phase,
                                 [title, f"{'/'.join(roles)} ({', '.join(families)})",
                                  _where(ev.site.loc)],
                                 loc=ev.site.loc, role=roles[0])
            self.sites[site_key] = site_id
            self.site_families[site_id] = families
        self._edge(chain[-1], site_id, label=roles[0])

    # findings
    def _add_finding(self, f: Finding) -> None:
        if f.hook not in DRAWN_PHASES:
            return
        exits = [r for r in f.related if r.role == "error-exit"]
        missing = f.shape in ("missing-release", "error-exit-leak")
        status = "missing" if missing else "misplaced"
        site_id = self._site_at(f.hook, f.loc)
        if site_id is None:
            site_id = self._node(("finding", f.hook, f.loc.file, f.loc.line, f.loc.col, f.rule),
                                 "finding", f.hook,
                                 [f"{f.function}: {f.resource}", _where(f.loc)], loc=f.loc)
            owner = self._function_node(f.hook, f.function)
            if owner is not None:
                self._edge(owner, site_id)
        self._mark(site_id, status, f)
        if missing:
            releases = self._release_calls(site_id)
            if exits:
                phase = f.hook
                lines = ["not released on the error exit", _where(exits[0].loc)]
            else:
                phases = self._release_phases(f)
                phase = phases[0]
                lines = [f"missing release in {' or '.join(phases)}"]
            lines.append(f.resource)
            if releases:
                lines.append("expected: " + " / ".join(releases))
            lines.append(f"[{f.rule}]")
            miss_id = self._node(("missing", phase, f.loc.file, f.loc.line, f.loc.col,
                                  f.resource, f.rule), "missing", phase, lines,
                                 status="missing", tooltip=f.message)
            self._edge(site_id, miss_id, label="never released", style="missing", status="missing")
        else:
            # double release, use after release: link the earlier release
            for r in f.related:
                if r.role != "release":
                    continue
                earlier = [i for (p, l, _), i in sorted(self.sites.items()) if l == r.loc]
                if earlier and earlier[0] != site_id:
                    self._edge(earlier[0], site_id, label=f.rule, style="missing", status="misplaced")
        self._add_callback_path(f, site_id)

    def _add_callback_path(self, f: Finding, site_id: str) -> None:
        """The path of a finding through code that runs later (its related
        locations "callback" or "finalize", then the "use" each makes):
        where the callback was registered, the callback running at run time
        (or instance_finalize), and the finding it leads to (the memory it
        touches after the release, the request it makes)."""
        registered: Optional[str] = None
        pending: Optional[str] = None
        phase = "runtime"
        for r in f.related:
            if r.role == "callback":
                self._leads_to(f, pending, site_id)
                registered = self._site_any(r.loc) or self._node(
                    ("registration", r.loc.file, r.loc.line, r.loc.col), "site", "runtime",
                    [r.message, _where(r.loc)], loc=r.loc)
                named = re.search(r"(\w+)\(\)", r.message)
                name = named.group(1) if named else "callback"
                phase = "runtime"
                pending = self._node(("callback", name, r.loc.file, r.loc.line), "helper", "runtime",
                                     [f"{name}()", "called back at run time"], loc=r.loc, tooltip=r.message)
                self._edge(registered, pending, label="registers")
            elif r.role == "finalize":   # instance_finalize itself uses what unrealize freed
                self._leads_to(f, pending, site_id)
                named = re.search(r"(\w+)\(\)", r.message)
                pending = self._function_node("instance_finalize", named.group(1)) if named else None
                phase = "instance_finalize"
            elif r.role == "use" and pending is not None:
                use = self._node(("use", r.loc.file, r.loc.line, r.loc.col, f.rule), "finding", phase,
                                 [r.message, _where(r.loc)], loc=r.loc, tooltip=r.message)
                self._edge(pending, use)
                self._edge(use, site_id, label="after the release", style="missing", status="misplaced")
                pending = None
        self._leads_to(f, pending, site_id)

    def _leads_to(self, f: Finding, callback: Optional[str], site_id: str) -> None:
        """A callback with no "use" after it: for a missing release (a
        request nothing cancels), the callback makes the request."""
        if callback is not None and f.shape == "missing-release":
            self._edge(callback, site_id, label="makes the request", style="missing", status="missing")

    def _site_any(self, loc: Location) -> Optional[str]:
        """The acquire/release site drawn at ``loc`` in any phase."""
        for phase in DRAWN_PHASES:
            found = self._site_at(phase, loc)
            if found is not None:
                return found
        return None

    def _site_at(self, phase: str, loc: Location) -> Optional[str]:
        exact = [i for (p, l, _), i in self.sites.items() if p == phase and l == loc]
        if not exact:
            exact = [i for (p, l, _), i in self.sites.items()
                     if p == phase and (l.file, l.line) == (loc.file, loc.line)]
        return sorted(exact)[0] if exact else None

    def _function_node(self, phase: str, name: str) -> Optional[str]:
        for node in sorted(self.nodes.values(), key=lambda n: n.id):
            if node.phase == phase and node.kind in ("hook", "helper") and node.lines[0] == f"{name}()":
                return node.id
        return None

    def _mark(self, node_id: str, status: str, f: Finding) -> None:
        node = self.nodes[node_id]
        if node.status == "missing":
            status = "missing"
        lines = node.lines if f"[{f.rule}]" in node.lines else node.lines + (f"[{f.rule}]",)
        tooltip = "\n".join(t for t in (node.tooltip, f.message) if t)
        self.nodes[node_id] = Node(node.id, node.kind, node.phase, lines, node.loc, node.role,
                                   status, tooltip)
        if status == "misplaced":
            for edge in [e for e in self.edges if e.dst == node_id]:
                self.edges.discard(edge)
                self.edges.add(Edge(edge.src, edge.dst, edge.label, edge.style, "misplaced"))
        elif status == "missing":
            for edge in [e for e in self.edges if e.dst == node_id]:
                self.edges.discard(edge)
                self.edges.add(Edge(edge.src, edge.dst, edge.label, edge.style, "missing"))

    def _release_phases(self, f: Finding) -> List[str]:
        """Where the rule looked for the missing release (the finding says)."""
        phases = [p for p in f.expected_phases if p in DRAWN_PHASES]
        return phases or ["unrealize"]

    def _release_calls(self, site_id: str) -> List[str]:
        out: List[str] = []
        for fam_name in self.site_families.get(site_id, ()):
            fam = self.api.families.get(fam_name)
            for name in fam.release_names() if fam is not None else ():
                if name not in out:
                    out.append(name)
        return out[:3]


def _role_rank(role: str) -> int:
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)


def _where(loc: Location) -> str:
    return f"{loc.file}:{loc.line}"


def _ident(text: str) -> str:
    """A node id made of letters, digits and underscores only: valid
    unquoted in DOT and Mermaid, and stable for the same input."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "x"
