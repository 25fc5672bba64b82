"""Kind ``parent-link``: a QOM child of the device holds a strong link
back to the device (or to the child that contains it), and no teardown
step that runs before the device is finalized breaks the link.

A child is held by its parent's child property; a strong link property
(``DEFINE_PROP_LINK``, or ``object_property_add_link(...,
OBJ_PROP_LINK_STRONG)``) takes a reference on its target when it is set
(qom/object.c object_set_link_property()) and drops it only when it is
set again or when the object holding it is finalized.  A child linking to
its parent is a reference cycle: unplug drops the bus's and the parent's
references (object_unparent()), the child's link keeps the device's count
at one, and neither the device nor the child is ever finalized.  Only a
step of unrealize can break it (the link set to NULL, the child
unparented): instance_finalize never runs.

What the kind needs to know about the QOM API is data (the rule's
``setters``, ``adders``, ``creators``): which calls set a link, which
add one and where their flags are, and which calls make a child of which
type.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ...facts import Facts
from ...findings import Finding, RelatedLocation
from ...graph import DeviceType, Event, FunctionKey, Program
from ...model import SELF, key_within
from ..spec import RuleConfig, RuleSpec, meta
from .base import Kind, hook_loc, severity


@dataclass(frozen=True)
class LinkSetter:
    function: str = field(metadata=meta("", "a call that sets a link property"))
    object: int = field(default=0, metadata=meta("", "the argument that is the object holding the link"))
    name: int = field(default=1, metadata=meta("", "the argument that is the property's name"))
    target: int = field(default=2, metadata=meta("", "the argument that is the new target (NULL clears)"))


@dataclass(frozen=True)
class LinkAdder:
    function: str = field(metadata=meta("", "a call that adds a link property"))
    name: int = field(default=1, metadata=meta("", "the argument that is the property's name"))
    flags: int = field(default=5, metadata=meta("", "the argument that holds the link's flags"))


@dataclass(frozen=True)
class ChildCreator:
    function: str = field(metadata=meta("", "a call that makes an object of a named type"))
    type: int = field(default=0, metadata=meta("", "the argument that names the type (a string)"))
    object: int = field(default=0, metadata=meta("", "the argument that is the object made in place"))
    returns: bool = field(default=False, metadata=meta("", "the object is the call's result, not an argument"))


@dataclass(frozen=True)
class ParentLinkConfig(RuleConfig):
    setters: Tuple[LinkSetter, ...] = field(default=(), metadata=meta(
        "", "calls that set a link property on an object"))
    adders: Tuple[LinkAdder, ...] = field(default=(), metadata=meta(
        "", "calls that add a link property (object or class), with the argument holding its flags"))
    strong_flag: str = field(default="OBJ_PROP_LINK_STRONG", metadata=meta(
        "", "the flag that makes an added link take a reference on its target"))
    strong_properties: Tuple[str, ...] = field(default=("qdev_prop_link",), metadata=meta(
        "", "PropertyInfo names of static properties that are strong links (DEFINE_PROP_LINK)"))
    creators: Tuple[ChildCreator, ...] = field(default=(), metadata=meta(
        "", "calls that make an object of a named type: the type of a child the device makes"))
    set_phases: Tuple[str, ...] = field(default=("instance_init", "realize"), metadata=meta(
        "phase", "phases whose link settings are looked at"))
    break_phases: Tuple[str, ...] = field(default=("unrealize",), metadata=meta(
        "phase", "phases that run before the device's last reference goes and can break the cycle"))


def check(facts: Facts, spec: RuleSpec, dev: DeviceType) -> List[Finding]:
    cfg: ParentLinkConfig = spec.config
    if not cfg.setters:
        return []
    device = facts.device(dev)
    children = device.children
    if not children:
        return []
    setters = {s.function: s for s in cfg.setters}
    made = _made(facts, dev, cfg)
    broken = _broken(facts, dev, cfg, setters)
    out: List[Finding] = []
    seen: Set[Tuple[str, str]] = set()
    for phase in cfg.set_phases:
        for ev in device.events[phase]:
            s = setters.get(ev.site.callee or "")
            if s is None or max(s.object, s.name, s.target) >= len(ev.args):
                continue
            obj, target = ev.arg_path(s.object), ev.args[s.target]
            name = _string(ev.args[s.name].text)
            if obj is None or name is None or target.path is None or target.path.root != SELF \
                    or obj.root != SELF:
                continue
            okey, tkey = obj.key(), target.path.key()
            child = _holding_child(okey, children)
            if child is None or not _ancestor(tkey, okey, children):
                continue
            if (okey, name) in seen or (okey, name) in broken \
                    or any(okey == k or key_within(okey, k) for k, what in broken if what == ""):
                continue
            strong = _strength(facts.program, cfg, device.events, made.get(okey), okey, name)
            if not strong:
                continue
            seen.add((okey, name))
            related = []
            creation = made.get(child)
            if creation is not None:
                related.append(RelatedLocation(creation[1].site.loc,
                                               f"{child} is made a child of the device here ({creation[0]})",
                                               "acquire"))
            where = hook_loc(facts.program, dev, "unrealize")
            if where is not None:
                related.append(RelatedLocation(where, "unrealize neither clears the link nor unparents the child",
                                               "missing-release"))
            out.append(Finding(
                rule=spec.slug, severity=severity(facts, spec, dev), loc=ev.site.loc,
                message=spec.message(child=str(obj), link=name, device=dev.name,
                                     target="the device itself" if tkey == SELF
                                     else f"{target.path}, the child that contains it",
                                     call=ev.site.callee, phase=phase, strength=strong),
                function=ev.function[1], resource=f"{obj}.{name}", hook=phase, device=dev.name,
                related=tuple(related), shape=KIND.shape, expected_phases=tuple(cfg.break_phases)))
    return out


def _string(text: Optional[str]) -> Optional[str]:
    if text and len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return None


def _holding_child(key: str, children: Set[str]) -> Optional[str]:
    """The child of the device the object at ``key`` is or lives in."""
    best = None
    for c in children:
        if key == c or key_within(key, c):
            if best is None or len(c) > len(best):
                best = c
    return best


def _ancestor(target: str, obj: str, children: Set[str]) -> bool:
    """``target`` is the device itself, or a child of the device that
    contains the object at ``obj``."""
    if target == SELF:
        return True
    return target in children and key_within(obj, target)


def _made(facts: Facts, dev: DeviceType, cfg: ParentLinkConfig) -> Dict[str, Tuple[str, Event]]:
    """object key -> (type name, the call that made it) for the objects the
    device makes with a creator call (object_initialize_child(), object_new())."""
    creators = {c.function: c for c in cfg.creators}
    out: Dict[str, Tuple[str, Event]] = {}
    device = facts.device(dev)
    for phase in ("instance_init", "realize"):
        for ev in device.events[phase]:
            c = creators.get(ev.site.callee or "")
            if c is None or c.type >= len(ev.args):
                continue
            typ = _string(ev.args[c.type].text)
            path = ev.result if c.returns else ev.arg_path(c.object)
            if typ is not None and path is not None and path.root == SELF:
                out.setdefault(path.key(), (typ, ev))
    return out


def _broken(facts: Facts, dev: DeviceType, cfg: ParentLinkConfig,
            setters: Dict[str, LinkSetter]) -> Set[Tuple[str, str]]:
    """(object key, link name) of every link cleared (set to NULL) in a
    breaking phase, and (child key, "") of every child unparented there
    (its finalize drops the link's reference)."""
    device = facts.device(dev)
    child_families = facts.api.with_trait("qom-child")
    out: Set[Tuple[str, str]] = set()
    for phase in cfg.break_phases:
        for ev in device.events[phase]:
            s = setters.get(ev.site.callee or "")
            if s is not None and max(s.object, s.name, s.target) < len(ev.args) \
                    and ev.args[s.target].is_null:
                obj, name = ev.arg_path(s.object), _string(ev.args[s.name].text)
                if obj is not None and name is not None:
                    out.add((obj.key(), name))
        for op in device.ops[phase]:
            if op.role == "release" and op.family in child_families and op.key is not None:
                out.add((op.key, ""))
    return out


def _strength(program: Program, cfg: ParentLinkConfig, events: Dict[str, List[Event]],
              made: Optional[Tuple[str, Event]], okey: str, name: str) -> str:
    """How the link ``name`` of the object at ``okey`` is known to be
    strong ("" when it is weak or unknown): added with the strong flag by
    the device itself or by its type's instance_init or class_init, or a
    static link property (DEFINE_PROP_LINK) of the type when no adder of
    that name says otherwise."""
    adders = {a.function: a for a in cfg.adders}
    # the device adds the link to its child itself
    for phase_events in events.values():
        for ev in phase_events:
            a = adders.get(ev.site.callee or "")
            path = ev.arg_path(0)
            if a is not None and path is not None and path.key() == okey and a.name < len(ev.args) \
                    and _string(ev.args[a.name].text) == name:
                return _flag_strength(cfg, ev.args[a.flags].text if a.flags < len(ev.args) else "")
    if made is None or made[0] not in program.types:
        return ""
    typ = made[0]
    for fn in _type_functions(program, typ):
        for site in program.functions[fn].calls:
            a = adders.get(site.callee or "")
            if a is not None and a.name < len(site.args) and _string(site.args[a.name].text) == name:
                return _flag_strength(cfg, site.args[a.flags].text if a.flags < len(site.args) else "")
    tdev = program.types[typ]
    if any(entry.info in cfg.strong_properties for entry, _, _ in program.properties_of(tdev)):
        return f"a DEFINE_PROP_LINK of {typ}: qdev links are strong"
    return ""


def _flag_strength(cfg: ParentLinkConfig, flags: str) -> str:
    return f"added with {cfg.strong_flag}" if cfg.strong_flag in (flags or "") else ""


def _type_functions(program: Program, typ: str) -> Iterable[FunctionKey]:
    """The instance_init and class_init functions of ``typ`` and its
    ancestors, and the functions they call (two levels down)."""
    seen: Set[FunctionKey] = set()
    for name in [typ] + program.ancestors(typ):
        tdev = program.types.get(name)
        if tdev is None:
            continue
        rec = tdev.record
        for fname in (rec.instance_init, rec.class_init):
            key = None
            for file in tdev.search_files or (tdev.file,):
                key = program.resolve(file, fname)
                if key is not None:
                    break
            if key is None:
                continue
            frontier = [key]
            for _ in range(3):
                nxt = []
                for k in frontier:
                    if k in seen or k not in program.functions:
                        continue
                    seen.add(k)
                    yield k
                    nxt.extend(program.call_graph.successors(k))
                frontier = nxt


KIND = Kind(
    name="parent-link",
    summary="a QOM child holds a strong link back to its parent that nothing breaks before finalize",
    config=ParentLinkConfig,
    shape="missing-release",
    placeholders=frozenset({"child", "link", "target", "device", "call", "phase", "strength"}),
    check_device=check,
)
