"""The program model: plain data extracted from C translation units.

Everything the rules and reporters see is defined here.  This module must not
know about pycparser, the preprocessor or networkx: the frontend fills these
records in, the graph layer links them, the rules read them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple


@dataclass(frozen=True, order=True)
class Location:
    """A place in the user's source: path relative to the tree root."""

    file: str
    line: int
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


# Roots of access paths.
SELF = "self"            # the device object a hook runs on
PARAM = "param"          # PARAM:N, the N-th parameter of the function
GLOBAL = "global"        # GLOBAL:name
LOCAL = "local"          # LOCAL:name, a local that could not be resolved
CALL = "call"            # CALL:fn, the result of calling fn
UNKNOWN = "unknown"


# What can follow a path's key inside a longer key: a field (``.``), an
# array element (``[]``), a dereference (``*``) or a list element (``{}``).
SUBOBJECT_MARKS = ".[*{"


def key_within(key: str, outer: str) -> bool:
    """``key`` (an ``AccessPath.key()``) names something inside the object
    ``outer`` names: a field, an element or what it points to.  The one
    test of "is this path below that one"."""
    return len(key) > len(outer) and key.startswith(outer) and key[len(outer)] in SUBOBJECT_MARKS


@dataclass(frozen=True)
class AccessPath:
    """Where a resource lives, relative to a root.

    ``steps`` is a tuple of (operator, name) pairs: ``("->", "mmio")`` for a
    field reached through a pointer, ``(".", "mmio")`` for an embedded field,
    ``("[]", "")`` for any array element and ``("*", "")`` for a dereference.
    ``address_of`` is set for ``&path``.  QOM casts, C casts and
    ``container_of`` are transparent: ``&PCI_FOO(d)->mmio`` and ``&s->mmio``
    give the same path when ``s`` and ``d`` name the same object.
    """

    root: str
    steps: Tuple[Tuple[str, str], ...] = ()
    address_of: bool = False

    @property
    def root_kind(self) -> str:
        return self.root.split(":", 1)[0]

    def with_root(self, root: "AccessPath") -> "AccessPath":
        """Re-base this path on ``root`` (used to map a callee's parameter
        onto the caller's argument)."""
        steps = self.steps
        if steps and steps[0][0] == "^":
            # container_of(param, T, m): the object that holds the argument
            # as its member m; when the argument is &x.m that is x, else
            # (a QOM parent at offset 0, DO_UPCAST) the argument itself
            member = steps[0][1]
            steps = steps[1:]
            if root.steps and root.steps[-1][1] == member:
                root = AccessPath(root.root, root.steps[:-1], False)
        if root.address_of and steps and steps[0][0] == "->":
            # callee does p->f on a caller argument &x: that is x.f
            steps = ((".", steps[0][1]),) + steps[1:]
        elif root.address_of and steps and steps[0][0] == "*":
            steps = steps[1:]
        address = self.address_of or (root.address_of and not self.steps)
        return AccessPath(root.root, root.steps + steps, address)

    def key(self) -> str:
        """Identity of the object named, ignoring ``&`` and whether a field
        was reached with ``.`` or ``->`` (same memory either way).  Made
        once per path (the rules ask it of the same paths a million times
        on hw/), kept beside the fields: not one of them, so equality,
        hashing and the cache's encoding ignore it."""
        try:
            return self.__dict__["_key"]
        except KeyError:
            pass
        key = self._make_key()
        object.__setattr__(self, "_key", key)
        return key

    def _make_key(self) -> str:
        parts = [self.root]
        for op, name in self.steps:
            if op in ("->", "."):
                parts.append("." + name)
            elif op == "[]":
                parts.append("[]")
            elif op == "^":
                continue   # container_of() of a parameter not yet re-based: the same object
            else:
                parts.append("*")
        return "".join(parts)

    def crosses_pointer(self) -> bool:
        """True when the path leaves the root object's own storage through a
        pointer field (``s->a->b``), as opposed to embedded fields only."""
        return any(op in ("->", "*") for op, _ in self.steps[1:])

    def __str__(self) -> str:
        root = self.root
        if root.startswith((GLOBAL + ":", LOCAL + ":")):
            root = root.split(":", 1)[1]
        elif root.startswith(CALL + ":"):
            root = root.split(":", 1)[1] + "()"
        elif root.startswith(PARAM + ":"):
            root = "arg" + root.split(":", 1)[1]
        text = root
        for i, (op, name) in enumerate(self.steps):
            if op == "[]":
                text += "[]"
            elif op == "^":
                continue
            elif op == "*":
                text = "*" + text
            elif i == 0 and root == SELF:
                text += "." + name
            else:
                text += op + name
        return text


@dataclass(frozen=True)
class Expr:
    """A C expression, reduced to what the rules need.

    kind is one of: "path" (``path`` set), "call" (``callee`` and ``args``
    set; the expression is the call's result), "null", "const", "string",
    "other".  ``text`` is the C source, for messages.
    """

    kind: str
    text: str
    path: Optional[AccessPath] = None
    callee: Optional[str] = None
    args: Tuple["Expr", ...] = ()

    @property
    def is_null(self) -> bool:
        return self.kind == "null"


@dataclass(frozen=True)
class CallSite:
    """A call made by a function.  ``result`` is where its value is stored
    (``s->t = timer_new_ns(...)`` gives the path of ``s->t``)."""

    callee: Optional[str]
    args: Tuple[Expr, ...]
    loc: Location
    result: Optional[AccessPath] = None
    callee_text: str = ""
    index: int = 0  # order of the call in its function
    discarded: bool = False  # a statement of its own: the value is not used at all
    # functions that must have returned true for this call to run: the
    # calls tested by the enclosing ``if``s (``if (f(x) && ...) call();``,
    # ``if (!f(x)) {...} else call();``)
    requires: Tuple[str, ...] = ()
    # values that must be true (non-zero, non-NULL) for this call to run:
    # the plain variables and fields the enclosing ``if``s test
    # (``if (ns->params.zoned) call();``)
    guards: Tuple[AccessPath, ...] = ()
    # the same tests as "Type:field.chain" (the struct the tested variable
    # points to, and the fields below it), for TranslationUnit.written
    guard_fields: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    lhs: Expr
    rhs: Expr
    loc: Location


@dataclass(frozen=True)
class Param:
    name: str
    type: str


@dataclass(frozen=True)
class LocalVar:
    name: str
    type: str
    loc: Location
    cleanup: bool = False  # g_autofree / g_autoptr / g_auto: released at scope exit


@dataclass(frozen=True)
class CfgNode:
    """One node of a function's control-flow graph (``Function.cfg``).

    Node 0 is the entry, node 1 the exit; every ``return`` (and falling off
    the end) is a node of kind "return" whose only successor is the exit.
    ``ops`` are the calls (``("c", index into Function.calls)``) and
    assignments (``("a", index into Function.assignments)``) the node
    performs, in source order.  ``error`` marks nodes on an error path: in
    the branch of an error check (``if (!f(..., errp))``, ``if (local_err)``,
    ``if (ret < 0)``), after ``error_setg()`` in the same block, or after a
    label that error paths jump to."""

    kind: str                         # entry | exit | stmt | cond | return | label
    line: int = 0
    ops: Tuple[Tuple[str, int], ...] = ()
    succ: Tuple[int, ...] = ()
    error: bool = False
    value: Optional["Expr"] = None    # return: the returned expression
    # an ``if`` testing a plain variable or field (``if (!s->migratable)``):
    # its C text ("!" first when negated), and the successors that begin
    # its then-branch; lets two tests of the same value agree along a path
    test: str = ""
    then: Tuple[int, ...] = ()
    test_path: Optional["AccessPath"] = None   # the tested value, as a path
    # a retry loop's test of a failure (``do {...} while (ret < 0 && n--)``):
    # the successors it loops back to, taken when the last call failed
    failure: Tuple[int, ...] = ()


@dataclass
class Function:
    name: str
    loc: Location
    end_line: int
    static: bool
    params: Tuple[Param, ...]
    locals: Dict[str, LocalVar] = field(default_factory=dict)
    calls: List[CallSite] = field(default_factory=list)
    assignments: List[Assignment] = field(default_factory=list)
    cfg: List[CfgNode] = field(default_factory=list)
    returns_value: bool = False      # not a void function
    # the memory the function touches through its parameters: each
    # outermost field access, element or dereference (``s->buf[i]``,
    # ``*s->p``, ``&s->regs``) whose path starts at a parameter, once per
    # path, at its first place (what an asynchronous callback reaches:
    # facts/reach.py)
    reads: Tuple[Tuple[AccessPath, Location], ...] = ()

    @property
    def file(self) -> str:
        return self.loc.file


@dataclass(frozen=True)
class TypeInfoRecord:
    """One QOM ``TypeInfo`` initializer."""

    name: str
    parent: Optional[str]
    loc: Location
    instance_init: Optional[str] = None
    instance_finalize: Optional[str] = None
    class_init: Optional[str] = None
    abstract: bool = False
    # The fields of the class_data the type is registered with, when that is
    # a table entry or a static struct: (field, value) with value a function
    # name, a string's text or a constant's text.
    class_data: Tuple[Tuple[str, str], ...] = ()
    # How it was registered: "" for a static TypeInfo, else e.g.
    # "e1000_register_types: e1000_devices[1]" (a loop over a table).
    registered_by: str = ""


@dataclass(frozen=True)
class HookBinding:
    """``klass->field = value`` inside a class_init (or a helper of one), or a
    ``device_class_set_parent_*`` call.  ``target`` is a function name when
    the value is a function, else None and ``value`` holds the C text."""

    function: str         # the function that makes the binding
    class_type: str       # e.g. "PCIDeviceClass"; "" when unknown
    field: str            # e.g. "realize", "exit", "hotpluggable"
    target: Optional[str]
    value: str
    loc: Location
    chained: bool = False  # bound with device_class_set_parent_*
    # Bindings that depend on the class_data a class_init receives (types
    # registered from a table): ``k->realize = info->realize ?: default``
    # gives data_field "realize" (the entry's function wins over target);
    # ``k->exit = info->unplug ? f : NULL`` or ``if (!info->unplug) {...}``
    # give data_cond "unplug" / "!unplug" (bound only when it holds).
    data_field: Optional[str] = None
    data_cond: Optional[str] = None


@dataclass(frozen=True)
class TypeTemplate:
    """A TypeInfo that a registration helper builds from its parameter:
    ``void virtio_pci_types_register(const VirtioPCIDeviceTypeInfo *t)``
    registers ``{.name = t->generic_name, .parent = t->base_name, ...}``.
    ``fields`` holds (TypeInfo field, kind, value, default): kind "const"
    (value is the text), "param" (value names a field of the parameter),
    "param_or" (that field, else ``default``), "param_self" (the parameter
    itself, used as class_data)."""

    function: str
    param: int
    fields: Tuple[Tuple[str, str, str, str], ...]
    loc: Location


@dataclass(frozen=True)
class TemplateCall:
    """A call of a registration helper with a file-scope struct:
    ``virtio_pci_types_register(&virtio_net_pci_info)``; ``row`` holds that
    struct's (field, value) pairs."""

    callee: str
    function: str   # the caller
    arg: int
    struct: str     # the struct's name
    row: Tuple[Tuple[str, str], ...]
    loc: Location


@dataclass(frozen=True)
class Notice:
    """Something that could not be fully analysed; never a finding."""

    file: str
    line: int
    message: str
    kind: str = "parse"


@dataclass
class ParseStats:
    functions_found: int = 0
    functions_recovered: int = 0
    lost_reasons: Dict[str, int] = field(default_factory=dict)
    # of the recovered: parsed only by taking names no header declared
    # (an external library's types) as type names
    functions_guessed: int = 0


@dataclass(frozen=True)
class LostFunction:
    """A function definition the parser could not read: its name (as far
    as the text shows it), where it starts, and why it was lost."""

    name: str
    line: int
    reason: str
    static: bool = False


@dataclass(frozen=True)
class PropertyEntry:
    """One entry of a static Property array (``DEFINE_PROP_*``)."""

    info: str                  # the PropertyInfo: "qdev_prop_string", "qdev_prop_array", ...
    field: str                 # the state field it sets (``.offset``)
    array_field: Optional[str]  # DEFINE_PROP_ARRAY: the array its setter allocates
    loc: Location


@dataclass
class TranslationUnit:
    """Everything extracted from one ``.c`` file."""

    file: str  # relative to the tree root
    functions: Dict[str, Function] = field(default_factory=dict)
    types: List[TypeInfoRecord] = field(default_factory=list)
    bindings: List[HookBinding] = field(default_factory=list)
    qom_casts: Tuple[str, ...] = ()  # names of QOM cast functions seen
    # Property arrays (``static Property foo_props[]``) -> their entries
    properties: Dict[str, List["PropertyEntry"]] = field(default_factory=dict)
    type_templates: List[TypeTemplate] = field(default_factory=list)
    template_calls: List[TemplateCall] = field(default_factory=list)
    # fields the file's functions write (``x->f.g = ``, ``|=``, ``++``,
    # ``&x->f``) as "Type:f.g" (Type: the struct x points to, "" when not
    # known): a field no file writes and no property sets keeps the zero
    # its object was allocated with
    written: Tuple[str, ...] = ()
    # file-scope struct initialisers and the names their fields are set to
    # (``static const MemoryRegionOps foo_ops = { .read = foo_read }``
    # gives "foo_ops" -> (("read", "foo_read"),)): the callbacks an ops
    # table hands to the API that registers it
    initialisers: Dict[str, Tuple[Tuple[str, str], ...]] = field(default_factory=dict)
    # function definitions of the file that could not be parsed (a call to
    # one reaches nothing: see graph.Program.lost_reached)
    lost_functions: List[LostFunction] = field(default_factory=list)
    notices: List[Notice] = field(default_factory=list)
    stats: ParseStats = field(default_factory=ParseStats)
