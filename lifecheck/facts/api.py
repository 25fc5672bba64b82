"""The API table as the analyses use it: families, their calls, and what a
call does to a resource (``Op``).

Families are data (rules/api/*.toml, loaded by rules/catalog.py); this
module holds their types and the index from a function name to the calls
that name it.  A family the analyses must recognise (the one whose calls
create memory regions, the one that makes embedded QOM children, plain
heap memory) is found by a *trait* the data gives it, never by its name.
"""
from __future__ import annotations

import re

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Tuple

from ..graph import Event
from ..model import GLOBAL, LOCAL, SELF, AccessPath

ROLES = ("acquire", "release", "disarm")

# What a family can be, for the analyses that need to know (TOML key
# ``traits``); documented in docs/api-families.md and checked on load.
TRAITS = {
    "region": "its acquire calls initialise a MemoryRegion (the region index of a device: "
              "aliases, containers, regions without an owner)",
    "qom-child": "its acquire calls make an embedded QOM child; what lives inside the child "
                 "is the child's to release",
    "heap": "plain heap memory: what the setter of an array property (DEFINE_PROP_ARRAY) "
            "allocates belongs to it",
    "registration": "its acquire call registers the device (an opaque pointer, a callback, a list "
                    "entry or struct in the device's memory) with code outside the device that "
                    "will call or walk it later: left registered after the device is freed, the "
                    "next event (reset, migration, timer, input, ...) is a use after free",
    "callback": "its acquire call stores a callback and the device pointer, called once armed "
                "(timer_mod(), qemu_bh_schedule()): left after the device is freed, it fires into "
                "freed memory if it was armed, which needs a realized device",
    "in-place": "its acquire call sets up a struct the device embeds: it allocates nothing",
    "mapping": "its acquire call maps a region where the guest reaches it: left mapped, the guest "
               "reaches a device that is gone",
    "field-only": "only what the device keeps in its own state is its resource: the same calls on "
                  "a local or a parameter (an Error set into errp or into a local that is "
                  "propagated) hand it on to the caller, and are not the device's business",
}

# What a call of a family can say about itself (TOML key ``attrs``).
ATTRS = {
    "alias": "the region is an alias (object_unparent() of it is allowed)",
    "container": "the region is a pure container (object_unparent() of it is allowed)",
    "all": "the release releases every resource of the family the device holds",
    "clears": "the release also clears the pointer it is given (g_clear_pointer)",
    "idempotent": "a second call on the released resource is harmless (the call checks and "
                  "clears its state, searches for what it removes, or resets the struct)",
    "wipes": "the release zeroes the whole object it is given (vhost_dev_cleanup() memsets its "
             "vhost_dev): a field of it read afterwards is NULL or 0, not what was stored there",
    "result-unused": "this form of the call is the one whose result is not kept",
    "own-region-ram": "the resource is a region's RAM block: when the device initialised the "
                      "region itself, the block, and with it the registration, goes when the "
                      "region is finalized with its owner (memory_region_init_ram() is "
                      "memory_region_init_ram_nomigrate() + vmstate_register_ram(), undone by no "
                      "device)",
    "sets-pointer": "the resource argument is the address of the pointer the call sets or clears "
                    "(error_setg(&s->err, ...) takes an Error **): the resource is the pointer, "
                    "s->err, which a release such as error_free(s->err) is handed",
    "never-global": "the call keeps nothing when its resource argument is a global: "
                    "error_setg(&error_fatal, ...) exits and error_setg(&error_abort, ...) aborts "
                    "(include/qapi/error.h), no Error is kept",
    "frees-argument": "the release frees the object it is given (g_free() of its parameter), "
                      "so it cannot release a struct embedded in the device (&s->field): "
                      "a fix must not suggest it for one",
}

# What an acquire call has done to its arguments when it fails (TOML key
# ``on_failure``, a table of these to argument indexes); documented in
# docs/api-families.md and checked on load.
ON_FAILURE = {
    "releases": "the failing call has released what it was handed in these arguments "
                "(vhost_dev_init() runs vhost_dev_cleanup(), which closes the descriptor passed as "
                "its opaque): the caller releasing it again is a double release",
    "released_as": "the family of what ``releases`` names (the descriptor, not a vhost-user state "
                   "passed in the same argument to another backend): a family name",
    "wipes": "the failing call has zeroed the struct it was given (vhost_dev_cleanup()'s memset): "
             "what the caller stored in it before (hdev->vqs) is no longer there to be released",
    "clears": "the failing call has released what this argument points to and cleared the pointer "
              "(migrate_add_blocker(&s->blocker, errp) since 8.2 frees *reasonp and sets it to NULL): "
              "on its failure branch the caller holds nothing there (and releasing it again frees NULL)",
    "never_if_constant": "the call cannot fail when this argument is a constant: its failure is then "
                         "a programming error the device's first run would show (pci_add_capability() "
                         "at a fixed offset: 'Should never trigger for emulated devices'), so an error "
                         "exit taken when it fails is never taken",
}

# What a call's arguments must be for the call to belong to an entry (TOML
# key ``if_args``, a table of these to lists of argument indexes):
# qemu_chr_fe_set_handlers() with handlers registers them, with NULL ones
# removes them.  Documented in docs/api-families.md and checked on load.
IF_ARGS = {
    "null": "every listed argument is NULL (or 0) at the call: "
            "qemu_chr_fe_set_handlers(&s->chr, NULL, NULL, NULL, NULL, NULL, NULL, true) removes handlers",
    "not_null": "at least one listed argument is not NULL at the call: "
                "qemu_chr_fe_set_handlers(&s->chr, foo_can_read, foo_read, ...) registers them",
}

_NULL_TEXTS = frozenset({"NULL", "0", "((void*)0)", "(void*)0", "((void*)0L)", "0L"})


def is_null(expr) -> bool:
    """The argument is a null pointer constant once preprocessed."""
    return expr.kind == "null" or (expr.text or "").replace(" ", "") in _NULL_TEXTS


# an argument that is a constant once preprocessed (0xa8, (0x40 + 8), 1U << 3)
_CONSTANT_RE = re.compile(r"^[\s0-9a-fA-FxXuUlL+\-*/()<>|&~]+$")


def is_constant(expr) -> bool:
    return expr.kind == "const" or bool(_CONSTANT_RE.match(expr.text or "x"))

# a release that releases every resource of its family (virtio_cleanup())
ALL = "*"

# Calls that release a pointer with a function given as argument and clear
# it: name -> (index of the pointer's address, index of the function)
CLEAR_CALLS = {"g_clear_pointer": (0, 1)}


@dataclass(frozen=True)
class ApiCall:
    """One function of an API family and which argument is the resource."""

    function: str
    role: str                 # "acquire" | "release" | "disarm"
    resource: int             # argument index; -1: the return value
    container: Optional[int] = None
    attrs: Tuple[str, ...] = ()
    min_version: Optional[Tuple[int, ...]] = None
    max_version: Optional[Tuple[int, ...]] = None
    owner: Optional[int] = None   # the argument that is the QOM owner (region init calls)
    # what the call has done to its arguments when it fails: (ON_FAILURE key, argument index)
    on_failure: Tuple[Tuple[str, int], ...] = ()
    released_as: Optional[str] = None   # on_failure.released_as: the family it releases
    # what the arguments must be for a call to be this entry: (IF_ARGS key, argument indexes)
    if_args: Tuple[Tuple[str, Tuple[int, ...]], ...] = ()
    # acquire calls: the arguments the new resource keeps and releases
    # itself (scsi_req_new()'s hba_private, freed by the HBA's own cancel
    # and complete callbacks when the request ends)
    keeps: Tuple[int, ...] = ()

    def applies_to(self, version: Optional[Tuple[int, ...]]) -> bool:
        return in_range(version, self.min_version, self.max_version)

    def matches(self, args) -> bool:
        """The call's argument expressions ``args`` meet ``if_args`` (an
        argument the call does not have is taken as NULL)."""
        for what, indexes in self.if_args:
            nulls = [i >= len(args) or is_null(args[i]) for i in indexes]
            if what == "null" and not all(nulls):
                return False
            if what == "not_null" and all(nulls):
                return False
        return True

    def can_release(self, path: Optional[AccessPath]) -> bool:
        """This (release) call may be applied to the resource held at
        ``path``: not when it frees the object it is given and the device
        embeds that object (``pcie_doe_fini(&s->doe)`` would g_free() a
        part of the device)."""
        return not ("frees-argument" in self.attrs and path is not None and embedded(path))


def embedded(path: AccessPath) -> bool:
    """``path`` is the address of a struct stored inside another object
    (``&s->field``, ``&s->sub.field``, ``&s->buf->hdr``): never a block of
    its own that g_free() could take, unlike a pointer the device holds."""
    return path.address_of and bool(path.steps) and path.steps[-1][0] in ("->", ".")


@dataclass(frozen=True)
class ApiFamily:
    """A kind of resource and the calls that acquire, release and disarm it.

    ``must_release``: a device that acquires it must release it itself
    (the leak rules apply); false for what QOM or the framework reclaims.
    ``mined``: the pair was learnt from a tree (``lifecheck api mine``)
    and no maintainer has reviewed it yet: findings about it are notes."""

    name: str
    header: str
    calls: Tuple[ApiCall, ...]
    source: str = ""
    summary: str = ""
    must_release: bool = False
    old_headers: Tuple[str, ...] = ()
    min_version: Optional[Tuple[int, ...]] = None
    max_version: Optional[Tuple[int, ...]] = None
    traits: Tuple[str, ...] = ()
    mined: bool = False

    def applies_to(self, version: Optional[Tuple[int, ...]]) -> bool:
        return in_range(version, self.min_version, self.max_version)

    def fix_releases(self, path: Optional[AccessPath]) -> List[str]:
        """The release calls a fix may add for the resource held at
        ``path``, the usual one first (none that would free memory the
        device embeds: the ``frees-argument`` calls for ``&s->field``)."""
        names: List[str] = []
        for c in self.calls:
            if c.role == "release" and c.can_release(path) and c.function not in names:
                names.append(c.function)
        return names

    def release_names(self) -> List[str]:
        """The release functions, in the order the data lists them (the
        usual one first)."""
        names: List[str] = []
        for c in self.calls:
            if c.role == "release" and c.function not in names:
                names.append(c.function)
        return names


def in_range(version, low, high) -> bool:
    if version is None:
        return True
    if low is not None and version < low:
        return False
    if high is not None and version >= high:
        return False
    return True


@dataclass(frozen=True, eq=False)
class Op:
    """What one event does to a resource of one API family.  Compared and
    hashed by identity: an op is made once per event and family
    (``ApiIndex.effects``), and the dataflow of error exits keeps
    thousands of them in sets (hashing its event, arguments and frames
    field by field took a tenth of the rules' time)."""

    role: str                       # acquire | release | disarm
    family: str
    path: Optional[AccessPath]      # None: a result that is not kept
    event: Event
    attrs: Tuple[str, ...] = ()
    container: Optional[AccessPath] = None   # what it is registered into (the data's "container")
    # an acquisition that undoes more than itself when it fails: (ON_FAILURE
    # key, the argument's path), from the call's ``on_failure``
    on_failure: Tuple[Tuple[str, AccessPath], ...] = ()
    released_as: Optional[str] = None

    @cached_property
    def key(self) -> Optional[str]:   # read many times per op by every rule
        return list_key(self.path) if self.path is not None else None


# include/qemu/queue.h: the fields of list heads and links.  An element
# inserted into ``s->list`` (stored through ``tqh_circ.tql_prev->tql_next``)
# and one freed while iterating it (``d = s->list.tqh_first``) are both
# "an element of s->list".
_QUEUE_FIELDS = frozenset({
    "lh_first", "le_next", "le_prev", "sqh_first", "sqh_last", "sqe_next",
    "slh_first", "sle_next", "tqh_first", "tqh_circ", "tql_next", "tql_prev",
    "tqe_next", "tqe_circ", "sqh_circ",
})


def list_key(path: AccessPath) -> str:
    """``path.key()``, with the links of a queue.h list folded: every
    element of ``s->list`` has the key ``self.list{}``."""
    steps = path.steps
    for i, (_, name) in enumerate(steps):
        if name in _QUEUE_FIELDS:
            j = i
            while j < len(steps) and steps[j][1] in _QUEUE_FIELDS:
                j += 1
            # s->list.lh_first->name: the name of an element of s->list
            return AccessPath(path.root, steps[:i]).key() + "{}" + AccessPath("", steps[j:]).key()
    return path.key()


# where a rule may look for resources (a rule's ``roots``)
ROOTS = {
    "self": "fields of the device (self.timer, self.sub->buf)",
    "global": "registrations keyed by a global (&vmstate_foo, a reset function)",
    "local": "locals of the function",
    "discarded": "results that are not kept at all (virtio_add_queue() whose handle is dropped)",
}


def root_allowed(path: Optional[AccessPath], roots: Iterable[str], attrs: Tuple[str, ...] = ()) -> bool:
    if path is None:
        return "discarded" in roots
    names = [name for op, name in path.steps if name]
    if len(names) != len(set(names)):
        return False  # s->pcm->streams[]->s->pcm: a back pointer, not a field of the device
    kind = path.root_kind
    if path.root == SELF:
        return "self" in roots
    if kind == GLOBAL:
        # registrations keyed by a global (&vmstate_foo, a reset function);
        # not memory hung on global lists, nor an object made once and kept
        # in a global (``if (!pfs) pfs = g_hash_table_new(...)``): a
        # process-wide singleton, not device state
        return "global" in roots and not path.steps and "result" not in attrs
    if kind == LOCAL:
        return "local" in roots
    return False


class ApiIndex:
    """function name -> [(family, ApiCall)], for the QEMU version checked."""

    def __init__(self, families: Iterable[ApiFamily], version: Optional[Tuple[int, ...]] = None):
        self.families: Dict[str, ApiFamily] = {}
        self.by_function: Dict[str, List[Tuple[str, ApiCall]]] = {}
        self._effects: Dict[int, Tuple[Event, list]] = {}
        self._recipes: Dict[Tuple[int, int, int], tuple] = {}
        for fam in families:
            if not fam.applies_to(version):
                continue
            self.families[fam.name] = fam
            for call in fam.calls:
                if call.applies_to(version):
                    self.by_function.setdefault(call.function, []).append((fam.name, call))
        # what calls of functions outside the table do (function
        # summaries, facts/summary.py): event -> Ops
        self.call_effects: Optional[Callable[[Event], list]] = None
        self._traits: Dict[str, FrozenSet[str]] = {}
        for trait in TRAITS:
            self._traits[trait] = frozenset(f.name for f in self.families.values() if trait in f.traits)
        self._field_only = self._traits["field-only"]

    def with_trait(self, trait: str) -> FrozenSet[str]:
        """The names of the families the data marks with ``trait``."""
        return self._traits[trait]

    def must_release(self) -> FrozenSet[str]:
        return frozenset(f.name for f in self.families.values() if f.must_release)

    def is_mined(self, family: Optional[str]) -> bool:
        """The family was mined from a tree and not yet reviewed."""
        fam = self.families.get(family or "")
        return fam is not None and fam.mined

    def effects(self, ev: Event) -> list:
        """What the call of ``ev`` does to resources, per family (a list
        shared by every caller: not to be changed)."""
        # the events of a hook's walk are shared by the types that share
        # the walk (Program.events): their effects are computed once
        seen = self._effects.get(id(ev))
        if seen is not None and seen[0] is ev:
            return seen[1]
        # what a call does depends on the call, its translated arguments
        # and result only (not on the path of calls that led to it): walks
        # that translate a function alike share these objects
        # (Program._translated), and the ops of one are those of the
        # other, made for this event
        site, args, result = ev.site, ev.args, ev.result
        recipe = self._recipes.get((id(site), id(args), id(result)))
        if recipe is not None and recipe[0] is site and recipe[1] is args and recipe[2] is result:
            out = [Op(op.role, op.family, op.path, ev, op.attrs, op.container, op.on_failure, op.released_as)
                   for op in recipe[3]]
        else:
            out = self.effects_uncached(ev)
            # the objects are kept alive with it: their ids are not reused
            self._recipes[(id(site), id(args), id(result))] = (site, args, result, out)
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
            if call.if_args and not call.matches(ev.site.args):
                continue  # the arguments make it another entry (handlers set, or removed)
            if unused_form and call.resource == -1:
                continue  # the result is dropped: the "result-unused" family tracks it
            path = ev.arg_path(call.resource)
            if path is None and call.resource != -1:
                continue
            if path is not None and "never-global" in call.attrs and path.root_kind == GLOBAL:
                continue
            if fam in self._field_only and (path is None or path.root != SELF):
                continue   # an Error in errp or a local: the caller's (trait "field-only")
            if path is not None and path.address_of and "sets-pointer" in call.attrs:
                path = AccessPath(path.root, path.steps, False)   # &s->err names s->err
            # "result": the resource is what the call returns (s->t = timer_new())
            failing = tuple((what, p) for what, p in ((w, ev.arg_path(i)) for w, i in call.on_failure
                                                                       if w != "never_if_constant")
                            if p is not None)
            out.append(Op(call.role, fam, path, ev, call.attrs + (("result",) if call.resource == -1 else ()),
                          ev.arg_path(call.container) if call.container is not None else None, failing,
                          call.released_as))
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
        if not entries and self.call_effects is not None:
            out.extend(self.call_effects(ev))
        return out

    def cannot_fail(self, site) -> bool:
        """The call can fail only by a programming error here (an API
        call's ``on_failure.never_if_constant`` argument is a constant)."""
        for _, call in self.by_function.get(site.callee or "", ()):
            for what, index in call.on_failure:
                if what == "never_if_constant" and index < len(site.args) and is_constant(site.args[index]):
                    return True
        return False

    def acquires(self, function: Optional[str], families) -> bool:
        return any(call.role == "acquire" and fam in families
                   for fam, call in self.by_function.get(function or "", ()))

    def lookup(self, function: Optional[str], family: str, role: str) -> Optional[ApiCall]:
        for fam, call in self.by_function.get(function or "", ()):
            if fam == family and call.role == role:
                return call
        return None

    def lookup_role(self, function: Optional[str], role: str) -> Optional[ApiCall]:
        """A ``role`` call of any family that ``function`` is."""
        for _, call in self.by_function.get(function or "", ()):
            if call.role == role:
                return call
        return None

    def lookup_trait(self, function: Optional[str], trait: str, role: str) -> Optional[ApiCall]:
        """The ``role`` call of a family with ``trait`` that ``function`` is."""
        families = self._traits[trait]
        for fam, call in self.by_function.get(function or "", ()):
            if fam in families and call.role == role:
                return call
        return None
