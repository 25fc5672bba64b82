"""QOM recognition: what a file's C says about QOM types and qdev devices.

Watches the extraction of a file's C facts (``functions.FunctionExtractor``,
as its ``Recogniser``) and records
- ``TypeInfoRecord``s: static ``TypeInfo`` initialisers and arrays of them
  (``DEFINE_TYPES``, what ``OBJECT_DEFINE_TYPE*()`` expands to), local
  ``TypeInfo``s registered at run time, one per entry of the table of
  variants a registration loop walks, and the ``TypeTemplate``s of
  registration helpers and the calls that use them;
- ``HookBinding``s: ``klass->field = f`` in class_init functions (through
  class casts, and depending on the class_data of a registration table),
  and the calls that set a class field (``device_class_set_parent_*``,
  ``device_class_set_props``, ...);
- property arrays: each ``DEFINE_PROP_*()`` entry's PropertyInfo and field.

The QEMU names it looks for are data, in rules/tables/qom.toml (read by
qomtable.py); the shapes of the C (a local TypeInfo filled field by field,
``info->f ? info->f : g``) are here.  It reads access paths through the
extractor and knows nothing of what the rules do with the records, nor of
phases, resources or the rule catalog.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

from pycparser import c_ast

from ..model import (GLOBAL, PARAM, CallSite, Expr, Function, HookBinding, Location, PropertyEntry,
                     TemplateCall, TypeInfoRecord, TypeTemplate)
from .functions import (FunctionExtractor, Recogniser, Scope, base_type_name, call_args, is_null,
                        strip_casts, strip_casts_keep_null, type_text, walk)
from .qomtable import qom_names


def transparent_calls() -> frozenset:
    """The calls whose value is their first argument (qom.toml), for the
    extractor's access paths."""
    return qom_names().transparent_calls


class QomRecogniser(Recogniser):
    """The QOM records of one translation unit (see the module)."""

    def __init__(self, code: FunctionExtractor):
        self.code = code
        names = self.names = qom_names()
        self._setters = names.setters
        self.types: List[TypeInfoRecord] = []
        self.bindings: List[HookBinding] = []
        self.properties: Dict[str, List[PropertyEntry]] = {}
        self.templates: List[TypeTemplate] = []
        self.template_calls: List[TemplateCall] = []
        # file-scope struct initialisers (tables a registration loop or a
        # TypeInfo's class_data may refer to): name -> (rows, is_array)
        self.tables: Dict[str, Tuple[List[_Row], bool]] = {}
        # assignments of the current class_init that hold only under a test
        # of its class_data: id(node) -> "field" or "!field"
        self._guards: Dict[int, str] = {}
        self._decl_loc = Location(code.rel_file, 0, 0)

    # -- file scope --------------------------------------------------------
    def file_decl(self, decl: c_ast.Decl) -> None:
        if decl.init is None:
            return
        self._decl_loc = self.code.loc(decl)
        tname = base_type_name(type_text(decl.type))
        if tname == self.names.property_struct and isinstance(decl.type, c_ast.ArrayDecl) and decl.name:
            entries = []
            for init in decl.init.exprs or ():
                if isinstance(init, c_ast.InitList):
                    entry = _property_entry(init, self._first_loc(init), self.names.property)
                    if entry is not None:
                        entries.append(entry)
            if entries:
                self.properties[decl.name] = entries
        if tname == self.names.type_info_struct:
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
        for n in walk(node):
            if getattr(n, "coord", None) is not None and n.coord.line:
                return self.code.loc(n)
        return self._decl_loc

    def _init_loc(self, init: c_ast.InitList) -> Location:
        """Where an initialiser's entry is written: pycparser gives nested
        initialiser lists the coordinates of the outermost one, so use its
        first value's."""
        for item in init.exprs or ():
            node = item.expr if isinstance(item, c_ast.NamedInitializer) else item
            if getattr(node, "coord", None) is not None:
                return self.code.loc(node)
        return self.code.loc(init) if init.coord else self._decl_loc

    def _typeinfo(self, fields: Dict[str, c_ast.Node], loc: Location, scope: Optional[Scope] = None,
                  row: Optional[_Row] = None, table: Optional[str] = None,
                  registered_by: str = "", infos=None) -> Optional[TypeInfoRecord]:
        """A TypeInfoRecord from a TypeInfo's fields (a node, or in a
        registration function the list of values assigned, latest last).
        In a registration loop ``row`` is the table entry the loop is at."""
        f = self.names.type_info
        ev = _RegistrationValues(self.tables, scope, table, row, infos)
        name = ev.string(fields.get(f["name"]))
        if name is None:
            return None
        class_data: Tuple[Tuple[str, str], ...] = ()
        data = ev.field(fields.get(f["class_data"]))
        if data is _ROW and row is not None:
            class_data = _row_values(self.tables, row)
        elif isinstance(data, tuple) and data[0] == "id" and data[1] in self.tables:
            rows, is_array = self.tables[data[1]]
            if not is_array:
                class_data = _row_values(self.tables, rows[0])
        abstract = ev.field(fields.get(f["abstract"]))
        return TypeInfoRecord(
            name=name, parent=ev.string(fields.get(f["parent"])), loc=loc,
            instance_init=ev.function(fields.get(f["instance_init"])),
            instance_finalize=ev.function(fields.get(f["instance_finalize"])),
            class_init=ev.function(fields.get(f["class_init"])),
            abstract=_truthy(abstract[1] if isinstance(abstract, tuple) else None),
            class_data=class_data, registered_by=registered_by,
        )

    def _registrations(self, func: Function, nodes: List[c_ast.Node], scope: Scope) -> None:
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
                    base_type_name(type_text(node.type)) == self.names.type_info_struct:
                init = _named_fields(node.init) if isinstance(node.init, c_ast.InitList) else {}
                infos[node.name] = {k: [v] for k, v in init.items()}
            elif isinstance(node, c_ast.Assignment) and node.op == "=" and \
                    isinstance(node.lvalue, c_ast.StructRef) and node.lvalue.type == "." and \
                    isinstance(node.lvalue.name, c_ast.ID) and node.lvalue.name.name in infos:
                infos[node.lvalue.name.name].setdefault(node.lvalue.field.name, []).append(node.rvalue)
            elif isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID) and \
                    node.name.name in self.names.register_calls:
                args = call_args(node)
                arg = strip_casts(args[0]) if args else None
                if isinstance(arg, c_ast.UnaryOp) and arg.op == "&" and \
                        isinstance(arg.expr, c_ast.ID) and arg.expr.name in infos:
                    fields = {k: list(v) for k, v in infos[arg.expr.name].items()}
                    self._register_local(func, fields, scope, node, infos)
        if not func.params:
            self._template_calls(func, nodes)

    def _register_local(self, func: Function, fields, scope: Scope, call: c_ast.FuncCall,
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
        rec = self._typeinfo(fields, self.code.loc(call), scope, None, None, func.name, infos)
        if rec is not None:
            self.types.append(rec)
            return
        name = probe.field(fields.get(self.names.type_info["name"]))
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
            self.templates.append(TypeTemplate(func.name, name[1], tuple(out), self.code.loc(call)))

    def _template_calls(self, func: Function, nodes: List[c_ast.Node]) -> None:
        """Calls a registration function (no parameters, run by type_init)
        makes with a file-scope struct: maybe a registration helper's
        (``nodes``: its body, walked)."""
        for node in nodes:
            if not (isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID)):
                continue
            for i, arg in enumerate(call_args(node)):
                arg = strip_casts(arg)
                if isinstance(arg, c_ast.UnaryOp) and arg.op == "&":
                    arg = arg.expr
                if isinstance(arg, c_ast.ID) and arg.name in self.tables and not self.tables[arg.name][1]:
                    row = self.tables[arg.name][0][0]
                    self.template_calls.append(TemplateCall(
                        node.name.name, func.name, i, arg.name, _row_values(self.tables, row),
                        self.code.loc(node)))

    def _class_data_calls(self, func: Function, body, scope: Scope) -> None:
        """A class_init that calls a function of its class_data
        (``t->class_init(klass, NULL)``) binds what that function binds:
        recorded as a binding with no field, naming the class_data field."""
        if body is None or not _is_class_init(func):
            return
        for node in walk(body):
            if isinstance(node, c_ast.FuncCall) and not isinstance(node.name, c_ast.ID):
                data_field = self._data_field(node.name, scope)
                if data_field:
                    self.bindings.append(HookBinding(
                        function=func.name, class_type="", field="", target=None,
                        value=self.code.text(node.name, 80), loc=self.code.loc(node), data_field=data_field))

    # -- functions ---------------------------------------------------------
    def begin_function(self, func: Function, body, scope: Scope) -> None:
        self._guards = self._class_data_guards(func, body, scope)

    def assignment(self, func: Function, node: c_ast.Assignment, scope: Scope) -> None:
        """``klass->field = value``: a binding when ``klass`` is a class."""
        lhs = node.lvalue
        if not (isinstance(lhs, c_ast.StructRef) and lhs.type == "->"):
            return
        base = strip_casts(lhs.name)
        if isinstance(base, c_ast.FuncCall) and isinstance(base.name, c_ast.ID):
            # DEVICE_CLASS(klass)->realize = f;
            class_type = _class_from_cast(base.name.name, self.names.class_casts)
        elif isinstance(base, c_ast.ID):
            var = scope.locals.get(base.name)
            tname = var.type if var else next((p.type for p in func.params if p.name == base.name), "")
            class_type = base_type_name(tname)
        else:
            return
        if not class_type.endswith("Class"):
            return
        value = strip_casts(node.rvalue)
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
                elif cond is not None and then and is_null(strip_casts_keep_null(value.iffalse)):
                    data_cond, target = cond, then             # info->c ? f : NULL
                elif cond is not None and other and is_null(strip_casts_keep_null(value.iftrue)):
                    data_cond, target = _negate(cond), other   # info->c ? NULL : f
            if guard is not None:
                data_cond = guard if data_cond is None else data_cond
        self.bindings.append(HookBinding(
            function=func.name, class_type=class_type, field=lhs.field.name,
            target=target, value=self.code.text(node.rvalue, 80), loc=self.code.loc(node),
            data_field=data_field, data_cond=data_cond))

    def call(self, func: Function, node: c_ast.FuncCall, site: CallSite, scope: Scope) -> None:
        """A call that sets a class field (qom.toml [[class_field_setters]])."""
        setter = self._setters.get(site.callee)
        if setter is None or len(site.args) < 2:
            return
        value = site.args[1]
        target = _function_name(value)
        data_field = data_cond = None
        if setter.class_data:
            # device_class_set_props_n(dc, info->props, ...): the table entry's array
            data_field = None if target else self._data_field(call_args(node)[1], scope)
            data_cond = self._guards.get(id(node))
        self.bindings.append(HookBinding(
            function=func.name, class_type=setter.class_type, field=setter.field,
            target=target, value=value.text, loc=site.loc, chained=setter.chained,
            data_field=data_field, data_cond=data_cond))

    def end_function(self, func: Function, nodes: List[c_ast.Node], body, scope: Scope) -> None:
        self._registrations(func, nodes, scope)
        self._class_data_calls(func, body, scope)

    def _data_field(self, node, scope: Scope, negation: bool = False) -> Optional[str]:
        """``info->f`` where ``info`` is the class_init's class_data -> "f";
        with ``negation``, ``!info->f`` -> "!f"."""
        node = strip_casts(node)
        if negation and isinstance(node, c_ast.UnaryOp) and node.op == "!":
            inner = self._data_field(node.expr, scope)
            return _negate(inner) if inner else None
        if not isinstance(node, c_ast.StructRef):
            return None
        e = self.code.expr(node, scope)
        if e.path is not None and e.path.root == f"{PARAM}:1" and len(e.path.steps) == 1 \
                and e.path.steps[0][0] == "->":
            return e.path.steps[0][1]
        return None

    def _class_data_guards(self, func: Function, body, scope: Scope) -> Dict[int, str]:
        """Assignments under ``if (info->f)`` / ``if (!info->f)`` in a
        class_init whose ``info`` is its class_data."""
        guards: Dict[int, str] = {}
        if body is None or not _is_class_init(func):
            return guards
        for node in walk(body):
            if not isinstance(node, c_ast.If):
                continue
            cond = self._data_field(node.cond, scope, negation=True)
            if cond is None:
                continue
            for branch, test in ((node.iftrue, cond), (node.iffalse, _negate(cond))):
                for inner in walk(branch):
                    if isinstance(inner, (c_ast.Assignment, c_ast.FuncCall)):
                        guards.setdefault(id(inner), test)
        return guards


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

    def __init__(self, tables, scope: Optional[Scope], table: Optional[str], row: Optional[_Row],
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
        node = strip_casts(node)
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
            base_node = strip_casts(node.name)
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
            base = strip_casts(node.name)
            return isinstance(base, c_ast.ID) and base.name == self.table
        if isinstance(node, c_ast.BinaryOp) and node.op == "+":
            base = strip_casts(node.left)
            return isinstance(base, c_ast.ID) and base.name == self.table
        return False

    def tables_in(self, node, depth: int = 0) -> Set[str]:
        """Names of file-scope tables a field's value indexes."""
        out: Set[str] = set()
        if node is None or depth > 20:
            return out
        for n in walk(node):
            if isinstance(n, (c_ast.ArrayRef, c_ast.BinaryOp)):
                base = strip_casts(n.name if isinstance(n, c_ast.ArrayRef) else n.left)
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
    node = strip_casts(node)
    if isinstance(node, c_ast.UnaryOp) and node.op == "&":
        node = node.expr
    return node.name if isinstance(node, c_ast.ID) and node.name != "NULL" else None


# -- AST helpers ------------------------------------------------------------

def _offset_member(node) -> Optional[str]:
    """The member named by ``offsetof(S, m)`` once expanded, dotted when
    nested (``offsetof(NvmeCtrl, params.serial)`` -> ``params.serial``)."""
    for n in walk(node):
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


def _property_entry(init: c_ast.InitList, loc: Location, names: Dict[str, str]) -> Optional[PropertyEntry]:
    """A ``DEFINE_PROP_*`` entry: its PropertyInfo (``.info = &qdev_prop_string``),
    the field it sets (``.offset = offsetof(S, field)``) and, for
    DEFINE_PROP_ARRAY (``qdev_prop_array``, ``qdev_prop_arraylen`` before
    8.2), the array field its setter allocates (``.arrayoffset``)."""
    fields = {}
    for item in init.exprs or ():
        if isinstance(item, c_ast.NamedInitializer) and item.name and isinstance(item.name[-1], c_ast.ID):
            fields[item.name[-1].name] = item.expr
    info = strip_casts(fields.get(names["info"]))
    if isinstance(info, c_ast.UnaryOp) and info.op == "&":
        info = info.expr
    if not isinstance(info, c_ast.ID):
        return None
    field_name = _offset_member(fields.get(names["offset"]))
    if field_name is None:
        return None
    array_offset = names["array_offset"]
    array_field = _offset_member(fields[array_offset]) if array_offset in fields else None
    return PropertyEntry(info.name, field_name, array_field, loc)


def _string_value(node) -> Optional[str]:
    node = strip_casts(node)
    if isinstance(node, c_ast.Constant) and node.type == "string":
        raw = node.value
        parts = re.findall(r'"((?:\\.|[^"\\])*)"', raw)
        return "".join(parts) if parts else raw.strip('"')
    return None


def _function_name(expr: Expr) -> Optional[str]:
    if expr.path is not None and expr.path.root.startswith(GLOBAL + ":") and not expr.path.steps:
        return expr.path.root.split(":", 1)[1]
    return None


def _class_from_cast(name: str, class_casts: Dict[str, str]) -> str:
    """The class struct behind a class cast function: from qom.toml's
    [class_casts] (``PCI_DEVICE_CLASS`` -> ``PCIDeviceClass`` is not
    derivable from the name), else FOO_BAR_CLASS -> FooBarClass and FOO
    -> FOOClass, names that may match no entry of rules/tables/hooks.toml
    (the binding then falls back to nothing)."""
    known = class_casts.get(name)
    if known is not None:
        return known
    return name + "Class" if not name.endswith("CLASS") else name.title().replace("_", "")
