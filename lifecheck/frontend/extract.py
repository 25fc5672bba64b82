"""Turn pycparser ASTs of one file into the program model.

This is the only module that walks pycparser nodes.  It produces
``model.Function`` records (call sites with arguments as access paths,
assignments, locals), ``TypeInfoRecord`` initialisers and ``HookBinding``
assignments made in class_init functions.

Access paths are normalised here: C casts, QOM cast functions (``FOO(obj)``,
``OBJECT()``, ``DEVICE()`` once expanded), ``object_dynamic_cast_assert`` and
``container_of`` are transparent, and locals are replaced by what they were
initialised with when that is unique, so ``&s->mmio`` and ``&d->mmio`` name
the same path when ``s`` and ``d`` are casts of the same parameter.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Set, Tuple

from pycparser import c_ast
from pycparser.c_generator import CGenerator

from .astwalk import preorder
from .cfg import CfgBuilder
from ..model import (CALL, GLOBAL, LOCAL, PARAM, AccessPath, Assignment, CallSite, Expr,
                     Function, HookBinding, LocalVar, Location, Param, PropertyEntry, TemplateCall,
                     TypeInfoRecord, TypeTemplate)

_CAST_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Calls whose result is their first argument, seen through.
_TRANSPARENT_CALLS = frozenset({
    "object_dynamic_cast_assert", "object_dynamic_cast", "g_steal_pointer",
})
_REGISTER_CALLS = frozenset({"type_register_static", "type_register"})
_PARENT_CHAIN_CALLS = {
    "device_class_set_parent_realize": "realize",
    "device_class_set_parent_unrealize": "unrealize",
}
# Calls that bind a class hook: function -> field
_HOOK_SETTER_CALLS = {
    "device_class_set_legacy_reset": "legacy_reset",
}
_GEN = CGenerator()


def c_text(node: c_ast.Node, limit: int = 160, memo: Optional[Dict[int, Tuple[c_ast.Node, str]]] = None) -> str:
    """The C source of ``node`` on one line, cut at ``limit`` characters.
    ``memo`` (id of a node -> the node and its whole text) saves
    generating the text of one node again: a call's arguments are
    converted once for the call and again for each call nested in them."""
    hit = memo.get(id(node)) if memo is not None else None
    if hit is not None and hit[0] is node:
        text = hit[1]
    else:
        try:
            text = _GEN.visit(node)
        except Exception:  # the generator does not know every GNU node
            text = type(node).__name__
        text = " ".join(text.split())
        if memo is not None:
            memo[id(node)] = (node, text)  # the node is kept: its id stays its own
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_text(node: Optional[c_ast.Node]) -> str:
    """The type of a declaration as C text without the declared name."""
    if node is None:
        return ""
    stars = 0
    while isinstance(node, (c_ast.PtrDecl, c_ast.ArrayDecl)):
        stars += 1
        node = node.type
    base = ""
    if isinstance(node, c_ast.TypeDecl):
        inner = node.type
        if isinstance(inner, c_ast.IdentifierType):
            base = " ".join(inner.names)
        elif isinstance(inner, (c_ast.Struct, c_ast.Union, c_ast.Enum)):
            base = f"{type(inner).__name__.lower()} {inner.name or ''}".strip()
    elif isinstance(node, c_ast.FuncDecl):
        base = "function"
    return base + (" " + "*" * stars if stars else "")


def base_type_name(text: str) -> str:
    """``const PCIDeviceClass *`` -> ``PCIDeviceClass``."""
    words = [w for w in re.findall(r"[A-Za-z_]\w*", text) if w not in ("const", "volatile", "struct")]
    return words[-1] if words else ""


class _Scope:
    """Per-function facts the expression converter needs."""

    def __init__(self, params: Tuple[Param, ...], locals_: Dict[str, LocalVar],
                 definitions: Dict[str, List[c_ast.Node]], stores: Dict[str, List[c_ast.Node]]):
        self.param_index = {p.name: i for i, p in enumerate(params)}
        self.params = params
        self.locals = locals_
        self.definitions = definitions  # local -> rhs nodes assigned to it
        self.stores = stores            # local -> lvalue nodes it is stored into
        self.resolving: Set[str] = set()


class Extractor:
    """Builds model records for one translation unit."""

    def __init__(self, rel_file: str, is_main, qom_casts: Iterable[str] = ()):
        self.rel_file = rel_file
        self.is_main = is_main
        self.qom_casts = set(qom_casts)
        self.functions: Dict[str, Function] = {}
        self.types: List[TypeInfoRecord] = []
        self.bindings: List[HookBinding] = []
        self.properties: Dict[str, List[PropertyEntry]] = {}
        self.written: Set[str] = set()   # see TranslationUnit.written
        self.templates: List[TypeTemplate] = []
        self.template_calls: List[TemplateCall] = []
        # file-scope struct initialisers (tables a registration loop or a
        # TypeInfo's class_data may refer to): name -> (rows, is_array)
        self.tables: Dict[str, Tuple[List[_Row], bool]] = {}
        # assignments of the current class_init that hold only under a test
        # of its class_data: id(node) -> "field" or "!field"
        self._guards: Dict[int, str] = {}
        # texts of the nodes of the function being extracted (see c_text)
        self._texts: Dict[int, Tuple[c_ast.Node, str]] = {}
        # one object per distinct expression and access path of the file
        # (they are immutable): two fifths of those made are the same as
        # one made before (``s``, ``s->regs``), and each object made once
        # is pickled once to the main process and kept there once
        self._exprs: Dict[tuple, Expr] = {}
        self._paths: Dict[tuple, AccessPath] = {}

    def _expr_of(self, kind: str, text: str, path: Optional[AccessPath] = None,
                 callee: Optional[str] = None, args: Tuple[Expr, ...] = ()) -> Expr:
        # keyed by the identity of its parts (made here, so one object per
        # value; and alive while the Expr holding them is kept): the
        # dataclasses' own hashing is Python code, recursive
        key = (kind, text, id(path), callee, tuple(map(id, args)))
        made = self._exprs.get(key)
        if made is None:
            made = self._exprs[key] = Expr(kind, text, path=path, callee=callee, args=args)
        return made

    def _path_of(self, root: str, steps: Tuple[Tuple[str, str], ...] = (),
                 address_of: bool = False) -> AccessPath:
        key = (root, steps, address_of)
        made = self._paths.get(key)
        if made is None:
            made = self._paths[key] = AccessPath(root, steps, address_of)
        return made

    # -- locations ---------------------------------------------------------
    def loc(self, node: c_ast.Node) -> Location:
        coord = getattr(node, "coord", None)
        if coord is None:
            return Location(self.rel_file, 0, 0)
        return Location(self.rel_file, coord.line or 0, coord.column or 1)

    # -- top level ---------------------------------------------------------
    def add_ast(self, ast: c_ast.FileAST) -> None:
        for ext in ast.ext or ():
            if isinstance(ext, c_ast.FuncDef):
                self._function(ext)
            elif isinstance(ext, c_ast.Decl):
                self._global_decl(ext)

    def _global_decl(self, decl: c_ast.Decl) -> None:
        if decl.init is None:
            return
        self._decl_loc = self.loc(decl)
        tname = base_type_name(type_text(decl.type))
        if tname == "Property" and isinstance(decl.type, c_ast.ArrayDecl) and decl.name:
            entries = []
            for init in decl.init.exprs or ():
                if isinstance(init, c_ast.InitList):
                    entry = _property_entry(init, self._first_loc(init))
                    if entry is not None:
                        entries.append(entry)
            if entries:
                self.properties[decl.name] = entries
        if tname == "TypeInfo":
            # static TypeInfo, arrays for DEFINE_TYPES / type_register_static_array,
            # and what OBJECT_DEFINE_TYPE*() expand to
            inits = decl.init.exprs if isinstance(decl.type, c_ast.ArrayDecl) else [decl.init]
            for init in inits or ():
                if isinstance(init, c_ast.InitList):
                    rec = self._typeinfo({k: [v] for k, v in _named_fields(init).items()},
                                         self._init_loc(init))
                    if rec is not None:
                        self.types.append(rec)
        elif isinstance(decl.init, c_ast.InitList) and decl.name:
            is_array = isinstance(decl.type, c_ast.ArrayDecl)
            items = (decl.init.exprs or []) if is_array else [decl.init]
            rows = [_Row(self._init_loc(i), _named_fields(i))
                    for i in items if isinstance(i, c_ast.InitList)]
            if rows and any(r.fields for r in rows):
                self.tables[decl.name] = (rows, is_array)

    def _first_loc(self, node: c_ast.Node) -> Location:
        """Where an initialiser starts: the first of its parts with a line
        (a macro's expansion keeps the line of the macro's name)."""
        for n in _walk(node):
            if getattr(n, "coord", None) is not None and n.coord.line:
                return self.loc(n)
        return self._decl_loc

    def _init_loc(self, init: c_ast.InitList) -> Location:
        """Where an initialiser's entry is written: pycparser gives nested
        initialiser lists the coordinates of the outermost one, so use its
        first value's."""
        for item in init.exprs or ():
            node = item.expr if isinstance(item, c_ast.NamedInitializer) else item
            if getattr(node, "coord", None) is not None:
                return self.loc(node)
        return self.loc(init) if init.coord else self._decl_loc

    def _typeinfo(self, fields: Dict[str, c_ast.Node], loc: Location, scope: Optional[_Scope] = None,
                  row: Optional[_Row] = None, table: Optional[str] = None,
                  registered_by: str = "", infos=None) -> Optional[TypeInfoRecord]:
        """A TypeInfoRecord from a TypeInfo's fields (a node, or in a
        registration function the list of values assigned, latest last).
        In a registration loop ``row`` is the table entry the loop is at."""
        ev = _RegistrationValues(self.tables, scope, table, row, infos)
        name = ev.string(fields.get("name"))
        if name is None:
            return None
        class_data: Tuple[Tuple[str, str], ...] = ()
        data = ev.field(fields.get("class_data"))
        if data is _ROW and row is not None:
            class_data = _row_values(self.tables, row)
        elif isinstance(data, tuple) and data[0] == "id" and data[1] in self.tables:
            rows, is_array = self.tables[data[1]]
            if not is_array:
                class_data = _row_values(self.tables, rows[0])
        abstract = ev.field(fields.get("abstract"))
        return TypeInfoRecord(
            name=name, parent=ev.string(fields.get("parent")), loc=loc,
            instance_init=ev.function(fields.get("instance_init")),
            instance_finalize=ev.function(fields.get("instance_finalize")),
            class_init=ev.function(fields.get("class_init")),
            abstract=_truthy(abstract[1] if isinstance(abstract, tuple) else None),
            class_data=class_data, registered_by=registered_by,
        )

    def _registrations(self, func: Function, nodes: List[c_ast.Node], scope: _Scope) -> None:
        """Types registered at run time from a local TypeInfo:
        ``TypeInfo ti = {...}; ti.name = table[i].name; type_register_static(&ti);``,
        usually in a loop over a table of variants (e1000, UHCI, EHCI, ...):
        each table entry becomes its own type.  When the fields come from a
        parameter (``t->base_name``), the function is a registration helper
        and a TypeTemplate is recorded for its callers' structs."""
        infos: Dict[str, Dict[str, List[c_ast.Node]]] = {}
        for node in nodes:
            if isinstance(node, c_ast.Decl) and node.name and \
                    not isinstance(node.type, (c_ast.ArrayDecl, c_ast.PtrDecl, c_ast.FuncDecl)) and \
                    base_type_name(type_text(node.type)) == "TypeInfo":
                init = _named_fields(node.init) if isinstance(node.init, c_ast.InitList) else {}
                infos[node.name] = {k: [v] for k, v in init.items()}
            elif isinstance(node, c_ast.Assignment) and node.op == "=" and \
                    isinstance(node.lvalue, c_ast.StructRef) and node.lvalue.type == "." and \
                    isinstance(node.lvalue.name, c_ast.ID) and node.lvalue.name.name in infos:
                infos[node.lvalue.name.name].setdefault(node.lvalue.field.name, []).append(node.rvalue)
            elif isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID) and \
                    node.name.name in _REGISTER_CALLS:
                args = _call_args(node)
                arg = _strip_casts(args[0]) if args else None
                if isinstance(arg, c_ast.UnaryOp) and arg.op == "&" and \
                        isinstance(arg.expr, c_ast.ID) and arg.expr.name in infos:
                    fields = {k: list(v) for k, v in infos[arg.expr.name].items()}
                    self._register_local(func, fields, scope, node, infos)
        if not func.params:
            self._template_calls(func, nodes)

    def _register_local(self, func: Function, fields, scope: _Scope, call: c_ast.FuncCall,
                        infos) -> None:
        probe = _RegistrationValues(self.tables, scope, None, None, infos)
        tables = set()
        for nodes in fields.values():
            for node in nodes:
                tables.update(probe.tables_in(node))
        arrays = sorted(t for t in tables if self.tables[t][1])
        if len(arrays) == 1:
            table = arrays[0]
            for i, row in enumerate(self.tables[table][0]):
                rec = self._typeinfo(fields, row.loc, scope, row, table,
                                     f"{func.name}: {table}[{i}]", infos)
                if rec is not None:
                    self.types.append(rec)
            return
        rec = self._typeinfo(fields, self.loc(call), scope, None, None, func.name, infos)
        if rec is not None:
            self.types.append(rec)
            return
        name = probe.field(fields.get("name"))
        if isinstance(name, tuple) and name[0] == "param":
            out = []
            for key in sorted(fields):
                v = probe.field(fields[key])
                if isinstance(v, tuple) and v[0] in ("str", "id", "const"):
                    out.append((key, "const", v[1], ""))
                elif isinstance(v, tuple) and v[0] == "param" and v[1] == name[1]:
                    out.append((key, "param", v[2], ""))
                elif isinstance(v, tuple) and v[0] == "param_or" and v[1] == name[1]:
                    out.append((key, "param_or", v[2], v[3]))
                elif isinstance(v, tuple) and v[0] == "param_self" and v[1] == name[1]:
                    out.append((key, "param_self", "", ""))
            self.templates.append(TypeTemplate(func.name, name[1], tuple(out), self.loc(call)))

    def _template_calls(self, func: Function, nodes: List[c_ast.Node]) -> None:
        """Calls a registration function (no parameters, run by type_init)
        makes with a file-scope struct: maybe a registration helper's
        (``nodes``: its body, walked)."""
        for node in nodes:
            if not (isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID)):
                continue
            for i, arg in enumerate(_call_args(node)):
                arg = _strip_casts(arg)
                if isinstance(arg, c_ast.UnaryOp) and arg.op == "&":
                    arg = arg.expr
                if isinstance(arg, c_ast.ID) and arg.name in self.tables and not self.tables[arg.name][1]:
                    row = self.tables[arg.name][0][0]
                    self.template_calls.append(TemplateCall(
                        node.name.name, func.name, i, arg.name, _row_values(self.tables, row),
                        self.loc(node)))

    def _class_data_calls(self, func: Function, body, scope: _Scope) -> None:
        """A class_init that calls a function of its class_data
        (``t->class_init(klass, NULL)``) binds what that function binds:
        recorded as a binding with no field, naming the class_data field."""
        if body is None or not _is_class_init(func):
            return
        for node in _walk(body):
            if isinstance(node, c_ast.FuncCall) and not isinstance(node.name, c_ast.ID):
                data_field = self._data_field(node.name, scope)
                if data_field:
                    self.bindings.append(HookBinding(
                        function=func.name, class_type="", field="", target=None,
                        value=c_text(node.name, 80, self._texts), loc=self.loc(node), data_field=data_field))

    # -- functions ---------------------------------------------------------
    def _function(self, fdef: c_ast.FuncDef) -> None:
        decl = fdef.decl
        fdecl = decl.type
        params: List[Param] = []
        if getattr(fdecl, "args", None) is not None:  # FuncDecl or pycparserext's FuncDeclExt
            for p in fdecl.args.params or ():
                if isinstance(p, c_ast.Decl) and p.name:
                    params.append(Param(p.name, type_text(p.type)))
        locals_: Dict[str, LocalVar] = {}
        definitions: Dict[str, List[c_ast.Node]] = {}
        stores: Dict[str, List[c_ast.Node]] = {}
        body = fdef.body
        nodes = _walk(body)  # walked by every pass below
        end_line = max((getattr(n.coord, "line", 0) or 0 for n in nodes if n.coord), default=0)
        self._texts = {}
        # pass 1: locals and what is assigned to them
        writes: List[Tuple[str, str]] = []   # (base variable, field chain)
        for node in nodes:
            if isinstance(node, c_ast.Assignment):
                _note_written(node.lvalue, writes)
            elif isinstance(node, c_ast.UnaryOp) and node.op in ("&", "++", "--", "p++", "p--"):
                _note_written(node.expr, writes)
            if isinstance(node, c_ast.Decl) and node.name and not isinstance(node.type, c_ast.FuncDecl):
                locals_[node.name] = LocalVar(node.name, type_text(node.type), self.loc(node),
                                              cleanup="auto" in (node.storage or []))
                if node.init is not None and not isinstance(node.init, c_ast.InitList):
                    definitions.setdefault(node.name, []).append(node.init)
            elif isinstance(node, c_ast.Assignment) and node.op == "=":
                lhs = _strip_casts(node.lvalue)
                if isinstance(lhs, c_ast.ID):
                    definitions.setdefault(lhs.name, []).append(node.rvalue)
                rhs = _strip_casts(node.rvalue)
                if isinstance(rhs, c_ast.ID) and not isinstance(lhs, c_ast.ID):
                    stores.setdefault(rhs.name, []).append(node.lvalue)
        scope = _Scope(tuple(params), locals_, definitions, stores)
        for base, chain in writes:
            self.written.add(f"{_var_type(base, scope)}:{chain}")
        func = Function(name=decl.name, loc=self.loc(decl), end_line=end_line,
                        static="static" in (decl.storage or []), params=tuple(params),
                        locals=locals_)
        self._guards = self._class_data_guards(func, body, scope)
        # pass 2: calls and assignments, in source order
        results: Dict[int, c_ast.Node] = {}
        op_of: Dict[int, Tuple[str, int]] = {}
        discarded = _statement_calls(nodes)
        tests = self._call_tests(nodes, scope)
        for node in nodes:
            if isinstance(node, c_ast.Assignment) and node.op == "=":
                for rv in self._value_calls(node.rvalue):
                    results[id(rv)] = node.lvalue
                op_of[id(node)] = ("a", len(func.assignments))
                func.assignments.append(Assignment(self.expr(node.lvalue, scope),
                                                   self.expr(node.rvalue, scope), self.loc(node)))
                self._binding(func, node, scope)
            elif isinstance(node, c_ast.Decl) and node.init is not None and node.name:
                for rv in self._value_calls(node.init):
                    results[id(rv)] = c_ast.ID(node.name, node.coord)
            elif isinstance(node, c_ast.FuncCall):
                callee = node.name.name if isinstance(node.name, c_ast.ID) else None
                if callee and self._is_cast(callee, node):
                    continue
                args = tuple(self.expr(a, scope) for a in _call_args(node))
                target = results.get(id(node))
                result = None
                if target is not None:
                    rexpr = self.expr(target, scope, follow_locals=False)
                    if rexpr.path is not None and rexpr.path.root.startswith(LOCAL + ":"):
                        # a local that is later stored into a field names that field
                        rexpr = self.expr(target, scope)
                    result = rexpr.path
                site = CallSite(callee=callee, args=args, loc=self.loc(node), result=result,
                                callee_text=c_text(node.name, 60, self._texts), index=len(func.calls),
                                discarded=id(node) in discarded, **tests.get(id(node), {}))
                op_of[id(node)] = ("c", site.index)
                func.calls.append(site)
                if callee in _HOOK_SETTER_CALLS and len(site.args) >= 2:
                    target_fn = site.args[1]
                    self.bindings.append(HookBinding(
                        function=func.name, class_type="DeviceClass",
                        field=_HOOK_SETTER_CALLS[callee],
                        target=_function_name(target_fn), value=target_fn.text, loc=site.loc))
                if callee in ("device_class_set_props", "device_class_set_props_n") and len(site.args) >= 2:
                    props = _function_name(site.args[1])
                    self.bindings.append(HookBinding(
                        function=func.name, class_type="DeviceClass", field="props",
                        target=props, value=site.args[1].text, loc=site.loc,
                        # device_class_set_props_n(dc, info->props, ...): the table entry's array
                        data_field=None if props else self._data_field(_call_args(node)[1], scope),
                        data_cond=self._guards.get(id(node))))
                if callee in _PARENT_CHAIN_CALLS and len(site.args) >= 2:
                    target_fn = site.args[1]
                    self.bindings.append(HookBinding(
                        function=func.name, class_type="DeviceClass",
                        field=_PARENT_CHAIN_CALLS[callee],
                        target=_function_name(target_fn), value=target_fn.text,
                        loc=site.loc, chained=True))
        func.returns_value = _returns_value(fdecl)
        try:
            func.cfg = CfgBuilder(op_of, lambda n: self.expr(n, scope)).build(body, func.returns_value, end_line)
        except RecursionError:
            func.cfg = []  # rules that need the graph skip this function
        self._registrations(func, nodes, scope)
        self._class_data_calls(func, body, scope)
        self.functions[func.name] = func

    def _binding(self, func: Function, node: c_ast.Assignment, scope: _Scope) -> None:
        lhs = node.lvalue
        if not (isinstance(lhs, c_ast.StructRef) and lhs.type == "->"):
            return
        base = _strip_casts(lhs.name)
        if isinstance(base, c_ast.FuncCall) and isinstance(base.name, c_ast.ID):
            # DEVICE_CLASS(klass)->realize = f;
            class_type = _class_from_cast(base.name.name)
        elif isinstance(base, c_ast.ID):
            var = scope.locals.get(base.name)
            tname = var.type if var else next((p.type for p in func.params if p.name == base.name), "")
            class_type = base_type_name(tname)
        else:
            return
        if not class_type.endswith("Class"):
            return
        value = _strip_casts(node.rvalue)
        target = _function_id(value)
        data_field = data_cond = None
        if _is_class_init(func):
            guard = self._guards.get(id(node))
            data_field = self._data_field(value, scope)
            if isinstance(value, c_ast.TernaryOp):
                cond = self._data_field(value.cond, scope, negation=True)
                then, other = _function_id(value.iftrue), _function_id(value.iffalse)
                if cond is not None and self._data_field(value.iftrue, scope) == cond:
                    data_field, target = cond, other          # info->f ? info->f : g
                elif cond is not None and then and _is_null(_strip_casts_keep_null(value.iffalse)):
                    data_cond, target = cond, then             # info->c ? f : NULL
                elif cond is not None and other and _is_null(_strip_casts_keep_null(value.iftrue)):
                    data_cond, target = _negate(cond), other   # info->c ? NULL : f
            if guard is not None:
                data_cond = guard if data_cond is None else data_cond
        self.bindings.append(HookBinding(
            function=func.name, class_type=class_type, field=lhs.field.name,
            target=target, value=c_text(node.rvalue, 80, self._texts), loc=self.loc(node),
            data_field=data_field, data_cond=data_cond))

    def _data_field(self, node, scope: _Scope, negation: bool = False) -> Optional[str]:
        """``info->f`` where ``info`` is the class_init's class_data -> "f";
        with ``negation``, ``!info->f`` -> "!f"."""
        node = _strip_casts(node)
        if negation and isinstance(node, c_ast.UnaryOp) and node.op == "!":
            inner = self._data_field(node.expr, scope)
            return _negate(inner) if inner else None
        if not isinstance(node, c_ast.StructRef):
            return None
        e = self.expr(node, scope)
        if e.path is not None and e.path.root == f"{PARAM}:1" and len(e.path.steps) == 1 \
                and e.path.steps[0][0] == "->":
            return e.path.steps[0][1]
        return None

    def _call_tests(self, nodes: List[c_ast.Node], scope: _Scope) -> Dict[int, Dict[str, tuple]]:
        """id of each call -> what its enclosing ``if``s require, as
        CallSite keyword arguments: ``requires`` (functions that returned
        true) and ``guards``/``guard_fields`` (fields that are true)."""
        out: Dict[int, Dict[str, tuple]] = {}
        for node in nodes:   # the walked body
            if not isinstance(node, c_ast.If):
                continue
            for branch, positive in ((node.iftrue, True), (node.iffalse, False)):
                if branch is None:
                    continue
                names: List[str] = []
                paths: List[AccessPath] = []
                fields: List[str] = []
                for term in _tested_terms(node.cond, positive):
                    if isinstance(term, c_ast.FuncCall):
                        names.append(term.name.name)
                        continue
                    e = self.expr(term, scope)
                    got = _field_chain(term)
                    if e.kind == "path" and e.path is not None and e.path.steps and got is not None:
                        paths.append(e.path)
                        fields.append(f"{_var_type(got[0], scope)}:{got[1]}")
                if not names and not paths:
                    continue
                for inner in _walk(branch):
                    if isinstance(inner, c_ast.FuncCall):
                        got = out.setdefault(id(inner), {"requires": (), "guards": (), "guard_fields": ()})
                        got["requires"] += tuple(names)
                        got["guards"] += tuple(paths)
                        got["guard_fields"] += tuple(fields)
        return out

    def _class_data_guards(self, func: Function, body, scope: _Scope) -> Dict[int, str]:
        """Assignments under ``if (info->f)`` / ``if (!info->f)`` in a
        class_init whose ``info`` is its class_data."""
        guards: Dict[int, str] = {}
        if body is None or not _is_class_init(func):
            return guards
        for node in _walk(body):
            if not isinstance(node, c_ast.If):
                continue
            cond = self._data_field(node.cond, scope, negation=True)
            if cond is None:
                continue
            for branch, test in ((node.iftrue, cond), (node.iffalse, _negate(cond))):
                for inner in _walk(branch):
                    if isinstance(inner, (c_ast.Assignment, c_ast.FuncCall)):
                        guards.setdefault(id(inner), test)
        return guards

    def _value_calls(self, node) -> List[c_ast.FuncCall]:
        """The calls whose value an expression is: ``f()``, ``(T *)f()``,
        ``FOO(f())`` (a QOM cast), ``c ? f() : g()``."""
        node = _strip_casts(node)
        if isinstance(node, c_ast.FuncCall):
            name = node.name.name if isinstance(node.name, c_ast.ID) else None
            if name and self._is_cast(name, node):
                inner = self._value_calls(_call_args(node)[0])
                return inner or [node]
            return [node]
        if isinstance(node, c_ast.TernaryOp):
            return self._value_calls(node.iftrue) + self._value_calls(node.iffalse)
        return []

    # -- expressions -------------------------------------------------------
    def _is_cast(self, name: str, node: c_ast.FuncCall) -> bool:
        args = _call_args(node)
        return bool(args) and (name in _TRANSPARENT_CALLS or name in self.qom_casts
                               or (len(args) == 1 and bool(_CAST_NAME_RE.match(name))))

    def expr(self, node: c_ast.Node, scope: _Scope, follow_locals: bool = True) -> Expr:
        text = c_text(node, memo=self._texts)
        try:
            return self._expr(node, scope, text, follow_locals, 0)
        except RecursionError:
            return Expr("other", text)

    def _expr(self, node, scope: _Scope, text: str, follow: bool, depth: int) -> Expr:
        if depth > 40:
            return self._expr_of("other", text)
        node = _strip_casts_keep_null(node)
        if _is_null(node):
            return self._expr_of("null", text)
        if isinstance(node, c_ast.ID):
            return self._expr_of("path", text, path=self._id_path(node.name, scope, follow, depth))
        if isinstance(node, c_ast.StructRef):
            base = self._expr(node.name, scope, text, follow, depth + 1)
            if base.path is None:
                return self._expr_of("other", text)
            path = base.path
            op = node.type
            if path.address_of and op == "->":
                path = self._path_of(path.root, path.steps, False)
                op = "."
            return self._expr_of("path", text, path=self._path_of(path.root, path.steps + ((op, node.field.name),)))
        if isinstance(node, c_ast.ArrayRef):
            base = self._expr(node.name, scope, text, follow, depth + 1)
            if base.path is None:
                return self._expr_of("other", text)
            return self._expr_of("path", text, path=self._path_of(base.path.root, base.path.steps + (("[]", ""),)))
        if isinstance(node, c_ast.UnaryOp) and node.op in ("&", "*"):
            inner = self._expr(node.expr, scope, text, follow, depth + 1)
            if inner.path is None:
                return self._expr_of("other", text)
            p = inner.path
            if node.op == "&":
                return self._expr_of("path", text, path=self._path_of(p.root, p.steps, True))
            if p.address_of:
                return self._expr_of("path", text, path=self._path_of(p.root, p.steps, False))
            return self._expr_of("path", text, path=self._path_of(p.root, p.steps + (("*", ""),)))
        if isinstance(node, c_ast.FuncCall):
            name = node.name.name if isinstance(node.name, c_ast.ID) else None
            args = _call_args(node)
            if name and self._is_cast(name, node):
                return self._expr(args[0], scope, text, follow, depth + 1)
            conv = tuple(self._expr(a, scope, c_text(a, memo=self._texts), False, depth + 1) for a in args)
            return self._expr_of("call", text, path=self._path_of(f"{CALL}:{name or '?'}"), callee=name, args=conv)
        if isinstance(node, c_ast.Compound):
            inner = _container_of(node)
            if inner is not None:
                ptr, member = inner
                got = self._expr(ptr, scope, text, follow, depth + 1)
                if got.path is not None and got.path.steps and got.path.steps[-1][1] == member:
                    return self._expr_of("path", text, path=self._path_of(got.path.root, got.path.steps[:-1]))
                if got.path is not None and not got.path.steps and member \
                        and got.path.root.startswith(PARAM + ":"):
                    # container_of(param, T, m): resolved when the caller's argument is known
                    return self._expr_of("path", text, path=self._path_of(got.path.root, (("^", member),)))
                return got
            return self._expr_of("other", text)
        if isinstance(node, c_ast.BinaryOp) and node.op in ("+", "-"):
            # ``a->st + i``: an element of the array a->st
            base = self._expr(node.left, scope, text, follow, depth + 1)
            if base.path is not None and base.kind == "path" and base.path.steps \
                    and not base.path.address_of:
                p = base.path
                return self._expr_of("path", text, path=self._path_of(p.root, p.steps + (("[]", ""),)))
            return self._expr_of("other", text)
        if isinstance(node, c_ast.Constant):
            return self._expr_of("string" if node.type == "string" else "const", text)
        return self._expr_of("other", text)

    def _id_path(self, name: str, scope: _Scope, follow: bool, depth: int) -> AccessPath:
        if name in scope.param_index and name not in scope.locals:
            return self._path_of(f"{PARAM}:{scope.param_index[name]}")
        if name not in scope.locals:
            return self._path_of(f"{GLOBAL}:{name}")
        if follow and name not in scope.resolving:
            scope.resolving.add(name)
            try:
                resolved = self._resolve_local(name, scope, depth)
            finally:
                scope.resolving.discard(name)
            if resolved is not None:
                return resolved
        return self._path_of(f"{LOCAL}:{name}")

    def _resolve_local(self, name: str, scope: _Scope, depth: int) -> Optional[AccessPath]:
        """A local names what it was set to, when that is one path; a local
        set to a fresh object (an allocation) names the field it is stored
        into."""
        defs = [d for d in scope.definitions.get(name, []) if not _is_null(_strip_casts_keep_null(d))]
        paths = set()
        for d in defs:
            e = self._expr(d, scope, "", True, depth + 1)
            paths.add(e.path if e.kind == "path" else None)
        if len(paths) == 1 and None not in paths:
            return paths.pop()
        if None not in paths:
            # an iterator seeded from a field and advanced through itself
            # (QLIST_FOREACH: d = head->lh_first; ...; d = next) names the field
            seeds = {p for p in paths if not p.root.startswith(LOCAL + ":")}
            if len(seeds) == 1:
                return seeds.pop()
        stores = set()
        for lv in scope.stores.get(name, []):
            e = self._expr(lv, scope, "", True, depth + 1)
            if e.path is not None and not e.path.root.startswith(LOCAL + ":"):
                stores.add(e.path)
        if len(stores) == 1:
            return stores.pop()
        return None


# -- registration tables ------------------------------------------------------

class _Row:
    """One entry of a file-scope table (or a single struct initialiser)."""

    def __init__(self, loc: Location, fields: Dict[str, c_ast.Node]):
        self.loc = loc
        self.fields = fields


_ROW = ("row",)  # value of table[i], &table[i], table + i: the current entry


class _RegistrationValues:
    """Evaluates the fields of a TypeInfo built at registration time, for
    one table entry: ``table[i].name``, ``info->name`` with ``info =
    &table[i]``, ``table + i``, ``c ? a : b``, locals with one value and
    fields of another local TypeInfo.  Values: ("str", s), ("id", name),
    ("const", text), _ROW, or, for what comes from a pointer parameter N,
    ("param_self", N), ("param", N, field), ("param_or", N, field, default);
    None when unknown."""

    def __init__(self, tables, scope: Optional[_Scope], table: Optional[str], row: Optional[_Row],
                 infos=None):
        self.tables = tables
        self.scope = scope
        self.table = table
        self.row = row
        self.infos = infos or {}

    def field(self, nodes, depth: int = 0):
        """The latest of the values assigned to a field that is known."""
        if nodes is None:
            return None
        if not isinstance(nodes, list):
            nodes = [nodes]
        for node in reversed(nodes):
            v = self.value(node, depth)
            if v is not None:
                return v
        return None

    def value(self, node, depth: int = 0):
        if node is None or depth > 20:
            return None
        node = _strip_casts(node)
        if isinstance(node, c_ast.Constant):
            if node.type == "string":
                return ("str", _string_value(node))
            return ("const", node.value)
        if isinstance(node, c_ast.ID):
            if node.name == "NULL":
                return None
            if node.name in ("true", "false"):
                return ("const", node.name)
            scope = self.scope
            if scope is not None and node.name in scope.locals:
                defs = scope.definitions.get(node.name, [])
                return self.value(defs[0], depth + 1) if len(defs) == 1 else None
            if scope is not None and node.name in scope.param_index:
                return ("param_self", scope.param_index[node.name])
            return ("id", node.name)
        if self._is_entry(node):
            return _ROW if self.row is not None else None
        if isinstance(node, c_ast.UnaryOp) and node.op == "&":
            inner = self.value(node.expr, depth + 1)
            return inner if inner is _ROW or (inner and inner[0] == "id") else None
        if isinstance(node, c_ast.StructRef):
            base_node = _strip_casts(node.name)
            if node.type == "." and isinstance(base_node, c_ast.ID) and base_node.name in self.infos:
                return self.field(self.infos[base_node.name].get(node.field.name), depth + 1)
            base = self.value(node.name, depth + 1)
            if base is _ROW and self.row is not None:
                entry = _RegistrationValues(self.tables, None, None, None)
                return entry.value(self.row.fields.get(node.field.name), depth + 1)
            if isinstance(base, tuple) and base[0] == "param_self":
                return ("param", base[1], node.field.name)
            return None
        if isinstance(node, c_ast.TernaryOp):
            cond = self.value(node.cond, depth + 1)  # unknown counts as false
            if isinstance(cond, tuple) and cond[0] == "param":
                then, other = self.value(node.iftrue, depth + 1), self.value(node.iffalse, depth + 1)
                if then == cond and isinstance(other, tuple) and other[0] in ("str", "id", "const"):
                    return ("param_or", cond[1], cond[2], other[1])
                return None
            truth = cond is _ROW or (cond is not None and _truthy(cond[1]))
            return self.value(node.iftrue if truth else node.iffalse, depth + 1)
        return None

    def _is_entry(self, node) -> bool:
        if isinstance(node, c_ast.ArrayRef):
            base = _strip_casts(node.name)
            return isinstance(base, c_ast.ID) and base.name == self.table
        if isinstance(node, c_ast.BinaryOp) and node.op == "+":
            base = _strip_casts(node.left)
            return isinstance(base, c_ast.ID) and base.name == self.table
        return False

    def tables_in(self, node, depth: int = 0) -> Set[str]:
        """Names of file-scope tables a field's value indexes."""
        out: Set[str] = set()
        if node is None or depth > 20:
            return out
        for n in _walk(node):
            if isinstance(n, (c_ast.ArrayRef, c_ast.BinaryOp)):
                base = _strip_casts(n.name if isinstance(n, c_ast.ArrayRef) else n.left)
                if isinstance(base, c_ast.ID) and base.name in self.tables:
                    out.add(base.name)
            elif isinstance(n, c_ast.ID) and self.scope is not None and n.name in self.scope.locals:
                for d in self.scope.definitions.get(n.name, []):
                    out |= self.tables_in(d, depth + 1)
        return out

    def string(self, nodes) -> Optional[str]:
        v = self.field(nodes)
        return v[1] if isinstance(v, tuple) and v and v[0] == "str" else None

    def function(self, nodes) -> Optional[str]:
        v = self.field(nodes)
        return v[1] if isinstance(v, tuple) and v and v[0] == "id" else None


def _row_values(tables, row: _Row) -> Tuple[Tuple[str, str], ...]:
    ev = _RegistrationValues(tables, None, None, None)
    out = []
    for name in sorted(row.fields):
        v = ev.value(row.fields[name])
        if isinstance(v, tuple) and len(v) == 2 and v[1] is not None:
            out.append((name, v[1]))
    return tuple(out)


def _named_fields(init: c_ast.InitList) -> Dict[str, c_ast.Node]:
    fields: Dict[str, c_ast.Node] = {}
    for item in init.exprs or ():
        if isinstance(item, c_ast.NamedInitializer) and item.name:
            name = item.name[-1]
            if isinstance(name, c_ast.ID):
                fields[name.name] = item.expr
    return fields


def _truthy(text: Optional[str]) -> bool:
    return text not in (None, "", "0", "false", "NULL")


def _negate(cond: str) -> str:
    return cond[1:] if cond.startswith("!") else "!" + cond


def _is_class_init(func: Function) -> bool:
    """class_init(ObjectClass *klass, [const] void *data)"""
    return len(func.params) == 2 and base_type_name(func.params[1].type) == "void" \
        and "*" in func.params[1].type


def _function_id(node) -> Optional[str]:
    node = _strip_casts(node)
    if isinstance(node, c_ast.UnaryOp) and node.op == "&":
        node = node.expr
    return node.name if isinstance(node, c_ast.ID) and node.name != "NULL" else None


# -- AST helpers ------------------------------------------------------------

def _offset_member(node) -> Optional[str]:
    """The member named by ``offsetof(S, m)`` once expanded, dotted when
    nested (``offsetof(NvmeCtrl, params.serial)`` -> ``params.serial``)."""
    for n in _walk(node):
        if isinstance(n, c_ast.StructRef):
            names = []
            while isinstance(n, c_ast.StructRef):
                names.append(n.field.name)
                n = n.name
            return ".".join(reversed(names))
        if isinstance(n, c_ast.FuncCall) and n.args is not None:  # __builtin_offsetof(T, m)
            exprs = getattr(n.args, "exprs", None) or []
            if len(exprs) == 2 and isinstance(exprs[1], c_ast.ID):
                return exprs[1].name
    return None


def _property_entry(init: c_ast.InitList, loc: Location) -> Optional[PropertyEntry]:
    """A ``DEFINE_PROP_*`` entry: its PropertyInfo (``.info = &qdev_prop_string``),
    the field it sets (``.offset = offsetof(S, field)``) and, for
    DEFINE_PROP_ARRAY (``qdev_prop_array``, ``qdev_prop_arraylen`` before
    8.2), the array field its setter allocates (``.arrayoffset``)."""
    fields = {}
    for item in init.exprs or ():
        if isinstance(item, c_ast.NamedInitializer) and item.name and isinstance(item.name[-1], c_ast.ID):
            fields[item.name[-1].name] = item.expr
    info = _strip_casts(fields.get("info"))
    if isinstance(info, c_ast.UnaryOp) and info.op == "&":
        info = info.expr
    if not isinstance(info, c_ast.ID):
        return None
    field_name = _offset_member(fields.get("offset"))
    if field_name is None:
        return None
    array_field = _offset_member(fields["arrayoffset"]) if "arrayoffset" in fields else None
    return PropertyEntry(info.name, field_name, array_field, loc)


def _tested_terms(cond, positive: bool) -> List[c_ast.Node]:
    """What must be true (``positive``) or false for ``cond`` to hold, as
    its terms: calls ``f(x)`` that returned true and fields ``s->f`` that
    are true; through ``!`` and the terms of ``&&`` (of ``||`` when it must
    not hold)."""
    cond = _strip_casts(cond)
    if isinstance(cond, c_ast.FuncCall):
        return [cond] if positive and isinstance(cond.name, c_ast.ID) else []
    if isinstance(cond, c_ast.StructRef):
        return [cond] if positive else []
    if isinstance(cond, c_ast.UnaryOp) and cond.op == "!":
        return _tested_terms(cond.expr, not positive)
    if isinstance(cond, c_ast.BinaryOp) and cond.op == ("&&" if positive else "||"):
        return _tested_terms(cond.left, positive) + _tested_terms(cond.right, positive)
    return []


def _field_chain(node) -> Optional[Tuple[str, str]]:
    """``a->b[i].c`` -> ("a", "b.c"); ("", "b.c") when the base is not a
    plain variable; None for ``&((T *)0)->m`` (offsetof) and non-fields."""
    names: List[str] = []
    node = _strip_casts(node)
    cast = False
    while True:
        while isinstance(node, c_ast.ArrayRef):
            node = _strip_casts(node.name)
        if isinstance(node, c_ast.StructRef) and isinstance(node.field, c_ast.ID):
            names.append(node.field.name)
            inner = _strip_casts(node.name)
            cast = inner is not node.name
            node = inner
            continue
        break
    if not names:
        return None
    if isinstance(node, c_ast.Constant):
        return None   # offsetof(T, m) expanded: nothing is written
    # FOO(obj)->f: written through a cast, the variable's own type says nothing
    base = node.name if isinstance(node, c_ast.ID) and not cast else ""
    return base, ".".join(reversed(names))


def _var_type(name: str, scope: "_Scope") -> str:
    """The struct type a parameter or local points to ("" if unknown)."""
    if not name:
        return ""
    for p in scope.params:
        if p.name == name:
            return base_type_name(p.type)
    local = scope.locals.get(name)
    return base_type_name(local.type) if local is not None else ""


def _note_written(node, out: List[Tuple[str, str]]) -> None:
    """``a->b.c`` written (or its address taken): note ("a", "b.c")."""
    got = _field_chain(node)
    if got is not None:
        out.append(got)


def _statement_calls(nodes: List[c_ast.Node]) -> Set[int]:
    """ids of the calls that are statements of their own (value unused),
    among ``nodes`` (a walked body)."""
    out: Set[int] = set()
    for n in nodes:
        stmts = []
        if isinstance(n, c_ast.Compound):
            stmts = n.block_items or []
        elif isinstance(n, (c_ast.Case, c_ast.Default)):
            stmts = n.stmts or []
        elif isinstance(n, c_ast.If):
            stmts = [n.iftrue, n.iffalse]
        elif isinstance(n, (c_ast.While, c_ast.DoWhile)):
            stmts = [n.stmt]
        elif isinstance(n, c_ast.For):
            stmts = [n.stmt, n.next]
        elif isinstance(n, c_ast.Label):
            stmts = [n.stmt]
        for st in stmts:
            st = _strip_casts(st)   # (void)f();
            if isinstance(st, c_ast.FuncCall):
                out.add(id(st))
    return out


def _returns_value(fdecl) -> bool:
    """False for ``void f(...)``."""
    ret = getattr(fdecl, "type", None)
    if isinstance(ret, c_ast.TypeDecl) and isinstance(ret.type, c_ast.IdentifierType):
        return ret.type.names != ["void"]
    return True


def _walk(node: Optional[c_ast.Node]) -> List[c_ast.Node]:
    """Pre-order walk without recursion (deep expressions are common)."""
    return preorder(node)


def _call_args(node: c_ast.FuncCall) -> List[c_ast.Node]:
    if node.args is None:
        return []
    return list(getattr(node.args, "exprs", None) or [])


def _strip_casts(node):
    while isinstance(node, c_ast.Cast):
        node = node.expr
    return node


def _is_null(node) -> bool:
    if isinstance(node, c_ast.Cast):
        inner = _strip_casts(node)
        return isinstance(inner, c_ast.Constant) and inner.value == "0"
    return isinstance(node, c_ast.ID) and node.name == "NULL"


def _strip_casts_keep_null(node):
    """Strip casts, but keep ``(void *)0`` recognisable as NULL."""
    if isinstance(node, c_ast.Cast) and _is_null(node):
        return node
    return _strip_casts(node)


def _string_value(node) -> Optional[str]:
    node = _strip_casts(node)
    if isinstance(node, c_ast.Constant) and node.type == "string":
        raw = node.value
        parts = re.findall(r'"((?:\\.|[^"\\])*)"', raw)
        return "".join(parts) if parts else raw.strip('"')
    return None


def _function_name(expr: Expr) -> Optional[str]:
    if expr.path is not None and expr.path.root.startswith(GLOBAL + ":") and not expr.path.steps:
        return expr.path.root.split(":", 1)[1]
    return None


def _class_from_cast(name: str) -> str:
    """The class struct behind a class cast macro.  ``PCI_DEVICE_CLASS`` ->
    ``PCIDeviceClass`` is not derivable from the name, so the common ones
    are listed; others get a name ending in "Class" that matches no entry
    of rules/tables/hooks.toml (the binding then falls back to nothing)."""
    table = {
        "DEVICE_CLASS": "DeviceClass", "PCI_DEVICE_CLASS": "PCIDeviceClass",
        "VIRTIO_DEVICE_CLASS": "VirtioDeviceClass", "USB_DEVICE_CLASS": "USBDeviceClass",
        "SYS_BUS_DEVICE_CLASS": "SysBusDeviceClass",
    }
    return table.get(name, name + "Class" if not name.endswith("CLASS") else name.title().replace("_", ""))


def _container_of(node: c_ast.Compound) -> Optional[Tuple[c_ast.Node, str]]:
    """Recognise the expansion of QEMU's container_of():
    ``({ const typeof(((T *)0)->m) *__mptr = (ptr); (T *)((char *)__mptr - offsetof(T, m)); })``
    and return (ptr, m)."""
    items = node.block_items or []
    if len(items) == 2 and isinstance(items[0], c_ast.Decl) and items[0].name == "offset_must_be_zero":
        # DO_UPCAST(T, m, ptr): ({ char offset_must_be_zero[-offsetof(T, m)]; container_of(ptr, T, m); })
        inner = items[1]
        while isinstance(inner, c_ast.UnaryOp) and inner.op in ("__extension__", "()"):
            inner = inner.expr
        return _container_of(inner) if isinstance(inner, c_ast.Compound) else None
    if len(items) != 2 or not isinstance(items[0], c_ast.Decl) or items[0].name != "__mptr":
        return None
    member = ""
    for n in _walk(items[1]):
        if isinstance(n, c_ast.StructRef):
            member = n.field.name
    return items[0].init, member
