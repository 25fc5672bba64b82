"""The C facts of one file: its function definitions as ``model.Function``
records.

For each function: its parameters and locals (``g_autofree`` and the
like marked), its call sites with their arguments as access paths, the
calls' results and the tests that guard them, its assignments, the struct
fields it writes, and its control-flow graph (built by cfg.py from the
same nodes).

Access paths are normalised here: C casts, cast functions (the QOM casts
``FOO(obj)`` a file's headers define, names in all capitals with one
argument, and the calls the caller names as transparent, such as
``object_dynamic_cast_assert``) and ``container_of`` are seen through, and
locals are replaced by what they were initialised with when that is
unique, so ``&s->mmio`` and ``&d->mmio`` name the same path when ``s`` and
``d`` are casts of the same parameter.

What this module must not know: QOM and qdev.  Types, hooks, properties
and registration tables are recognised by a ``Recogniser`` (qom.py) that
is shown each file-scope declaration and each function's assignments and
calls as they are extracted, and that uses the access paths made here.
Like the rest of the frontend package it walks pycparser nodes; nothing
above the frontend does.
"""
from __future__ import annotations

import re
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from pycparser import c_ast
from pycparser.c_generator import CGenerator

from .astwalk import preorder
from .cfg import CfgBuilder
from ..model import (CALL, GLOBAL, LOCAL, PARAM, AccessPath, Assignment, CallSite, Expr,
                     Function, LocalVar, Location, Param)

# A call of a name in capitals with one argument (``E1000(dev)``) is a cast.
_CAST_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")

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


class Scope:
    """Per-function facts the expression converter needs."""

    def __init__(self, params: Tuple[Param, ...], locals_: Dict[str, LocalVar],
                 definitions: Dict[str, List[c_ast.Node]], stores: Dict[str, List[c_ast.Node]]):
        self.param_index = {p.name: i for i, p in enumerate(params)}
        self.params = params
        self.locals = locals_
        self.definitions = definitions  # local -> rhs nodes assigned to it
        self.stores = stores            # local -> lvalue nodes it is stored into
        self.resolving: Set[str] = set()
        # what each local resolves to when no other local is being
        # resolved (the answer then depends on the local alone): a
        # function names ``s`` in ``s->a``, ``s->b``... many times
        self.resolved: Dict[str, Optional[AccessPath]] = {}
        self.cut = False   # the depth limit was reached (see _expr)


class Recogniser:
    """What watches a ``FunctionExtractor`` to recognise more than C in
    the same nodes (qom.py: QOM types, hooks, properties).  The extractor
    shows it each file-scope declaration and, for each function, the
    function once its locals are known, each ``=`` assignment and each call
    in source order as soon as it is recorded, and the whole function at
    the end.  Here every hook does nothing."""

    def file_decl(self, decl: c_ast.Decl) -> None:
        """A declaration at file scope."""

    def begin_function(self, func: Function, body: Optional[c_ast.Compound], scope: "Scope") -> None:
        """``func`` with its parameters and locals, before its calls."""

    def assignment(self, func: Function, node: c_ast.Assignment, scope: "Scope") -> None:
        """An ``=`` assignment of ``func``, just recorded."""

    def call(self, func: Function, node: c_ast.FuncCall, site: CallSite, scope: "Scope") -> None:
        """A call of ``func``, just recorded as ``site``."""

    def end_function(self, func: Function, nodes: List[c_ast.Node], body: Optional[c_ast.Compound],
                     scope: "Scope") -> None:
        """``func`` complete (``nodes``: its body, walked)."""


class FunctionExtractor:
    """Builds the ``model.Function`` records of one translation unit."""

    def __init__(self, rel_file: str, transparent_calls: Iterable[str] = (),
                 recogniser: Optional[Callable[["FunctionExtractor"], Recogniser]] = None):
        """``transparent_calls``: calls whose value is their first argument
        (cast functions); ``recogniser``: makes the Recogniser that watches
        this extractor (given the extractor)."""
        self.rel_file = rel_file
        self.transparent_calls = frozenset(transparent_calls)
        self.functions: Dict[str, Function] = {}
        self.written: Set[str] = set()   # see TranslationUnit.written
        self.initialisers: Dict[str, Tuple[Tuple[str, str], ...]] = {}   # see TranslationUnit.initialisers
        # texts of the nodes of the function being extracted (see c_text)
        self._texts: Dict[int, Tuple[c_ast.Node, str]] = {}
        # one object per distinct expression and access path of the file
        # (they are immutable): two fifths of those made are the same as
        # one made before (``s``, ``s->regs``), and each object made once
        # is pickled once to the main process and kept there once
        self._exprs: Dict[tuple, Expr] = {}
        self._paths: Dict[tuple, AccessPath] = {}
        self.recogniser: Recogniser = recogniser(self) if recogniser is not None else Recogniser()

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

    def text(self, node: c_ast.Node, limit: int = 160) -> str:
        """``c_text(node, limit)``, remembered for the function being
        extracted."""
        return c_text(node, limit, self._texts)

    # -- top level ---------------------------------------------------------
    def add_ast(self, ast: c_ast.FileAST) -> None:
        recogniser = self.recogniser
        for ext in ast.ext or ():
            if isinstance(ext, c_ast.FuncDef):
                self._function(ext)
            elif isinstance(ext, c_ast.Decl):
                if ext.name and isinstance(ext.init, c_ast.InitList):
                    named = _named_names(ext.init)
                    if named:
                        self.initialisers[ext.name] = named
                recogniser.file_decl(ext)

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
        nodes = walk(body)  # walked by every pass below
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
                lhs = strip_casts(node.lvalue)
                if isinstance(lhs, c_ast.ID):
                    definitions.setdefault(lhs.name, []).append(node.rvalue)
                rhs = strip_casts(node.rvalue)
                if isinstance(rhs, c_ast.ID) and not isinstance(lhs, c_ast.ID):
                    stores.setdefault(rhs.name, []).append(node.lvalue)
        scope = Scope(tuple(params), locals_, definitions, stores)
        for base, chain in writes:
            self.written.add(f"{_var_type(base, scope)}:{chain}")
        func = Function(name=decl.name, loc=self.loc(decl), end_line=end_line,
                        static="static" in (decl.storage or []), params=tuple(params),
                        locals=locals_)
        recogniser = self.recogniser
        recogniser.begin_function(func, body, scope)
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
                recogniser.assignment(func, node, scope)
            elif isinstance(node, c_ast.Decl) and node.init is not None and node.name:
                for rv in self._value_calls(node.init):
                    results[id(rv)] = c_ast.ID(node.name, node.coord)
            elif isinstance(node, c_ast.FuncCall):
                callee = node.name.name if isinstance(node.name, c_ast.ID) else None
                if callee and self._is_cast(callee, node):
                    continue
                args = tuple(self.expr(a, scope) for a in call_args(node))
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
                recogniser.call(func, node, site, scope)
        func.reads = self._reads(nodes, scope)
        func.returns_value = _returns_value(fdecl)
        try:
            func.cfg = CfgBuilder(op_of, lambda n: self.expr(n, scope)).build(body, func.returns_value, end_line)
        except RecursionError:
            func.cfg = []  # rules that need the graph skip this function
        recogniser.end_function(func, nodes, body, scope)
        self.functions[func.name] = func

    def _reads(self, nodes: List[c_ast.Node], scope: Scope) -> Tuple[Tuple[AccessPath, Location], ...]:
        """The outermost accesses of ``nodes`` (a walked body) whose path
        starts at a parameter: ``s->buf[i]`` once, not also ``s->buf``."""
        inner: Set[int] = set()
        accesses: List[c_ast.Node] = []
        for node in nodes:
            if isinstance(node, (c_ast.StructRef, c_ast.ArrayRef)):
                inner.add(id(strip_casts(node.name)))
                accesses.append(node)
            elif isinstance(node, c_ast.UnaryOp) and node.op == "*":
                inner.add(id(strip_casts(node.expr)))
                accesses.append(node)
        out: Dict[AccessPath, Location] = {}
        for node in accesses:
            if id(node) in inner:
                continue
            e = self.expr(node, scope)
            p = e.path
            if p is None or e.kind != "path" or not p.steps or not p.root.startswith(PARAM + ":"):
                continue
            if p not in out:
                out[p] = self.loc(node)
        return tuple(out.items())

    def _call_tests(self, nodes: List[c_ast.Node], scope: Scope) -> Dict[int, Dict[str, tuple]]:
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
                for inner in walk(branch):
                    if isinstance(inner, c_ast.FuncCall):
                        got = out.setdefault(id(inner), {"requires": (), "guards": (), "guard_fields": ()})
                        got["requires"] += tuple(names)
                        got["guards"] += tuple(paths)
                        got["guard_fields"] += tuple(fields)
        return out

    def _value_calls(self, node) -> List[c_ast.FuncCall]:
        """The calls whose value an expression is: ``f()``, ``(T *)f()``,
        ``FOO(f())`` (a QOM cast), ``c ? f() : g()``."""
        node = strip_casts(node)
        if isinstance(node, c_ast.FuncCall):
            name = node.name.name if isinstance(node.name, c_ast.ID) else None
            if name and self._is_cast(name, node):
                inner = self._value_calls(call_args(node)[0])
                return inner or [node]
            return [node]
        if isinstance(node, c_ast.TernaryOp):
            return self._value_calls(node.iftrue) + self._value_calls(node.iffalse)
        return []

    # -- expressions -------------------------------------------------------
    def _is_cast(self, name: str, node: c_ast.FuncCall) -> bool:
        args = call_args(node)
        return bool(args) and (name in self.transparent_calls
                               or (len(args) == 1 and bool(_CAST_NAME_RE.match(name))))

    def expr(self, node: c_ast.Node, scope: Scope, follow_locals: bool = True) -> Expr:
        text = c_text(node, memo=self._texts)
        try:
            return self._expr(node, scope, text, follow_locals, 0)
        except RecursionError:
            return Expr("other", text)

    def _expr(self, node, scope: Scope, text: str, follow: bool, depth: int) -> Expr:
        if depth > 40:
            scope.cut = True
            return self._expr_of("other", text)
        node = strip_casts_keep_null(node)
        if is_null(node):
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
            args = call_args(node)
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

    def _id_path(self, name: str, scope: Scope, follow: bool, depth: int) -> AccessPath:
        if name in scope.param_index and name not in scope.locals:
            return self._path_of(f"{PARAM}:{scope.param_index[name]}")
        if name not in scope.locals:
            return self._path_of(f"{GLOBAL}:{name}")
        if follow and name not in scope.resolving:
            alone = not scope.resolving
            if alone and name in scope.resolved:
                resolved = scope.resolved[name]
            else:
                cut, scope.cut = scope.cut, False
                scope.resolving.add(name)
                try:
                    resolved = self._resolve_local(name, scope, depth)
                finally:
                    scope.resolving.discard(name)
                if alone and not scope.cut:
                    scope.resolved[name] = resolved
                scope.cut = scope.cut or cut
            if resolved is not None:
                return resolved
        return self._path_of(f"{LOCAL}:{name}")

    def _resolve_local(self, name: str, scope: Scope, depth: int) -> Optional[AccessPath]:
        """A local names what it was set to, when that is one path; a local
        set to a fresh object (an allocation) names the field it is stored
        into."""
        defs = [d for d in scope.definitions.get(name, []) if not is_null(strip_casts_keep_null(d))]
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


# -- AST helpers ------------------------------------------------------------

def _named_names(init: c_ast.InitList) -> Tuple[Tuple[str, str], ...]:
    """The designated fields of an initialiser set to a name
    (``.read = foo_read``, ``.read = &foo_read``)."""
    out: List[Tuple[str, str]] = []
    for item in init.exprs or ():
        if not isinstance(item, c_ast.NamedInitializer) or len(item.name or ()) != 1:
            continue
        key = item.name[0]
        value = strip_casts(item.expr)
        if isinstance(value, c_ast.UnaryOp) and value.op == "&":
            value = strip_casts(value.expr)
        if isinstance(key, c_ast.ID) and isinstance(value, c_ast.ID):
            out.append((key.name, value.name))
    return tuple(out)


def _tested_terms(cond, positive: bool) -> List[c_ast.Node]:
    """What must be true (``positive``) or false for ``cond`` to hold, as
    its terms: calls ``f(x)`` that returned true and fields ``s->f`` that
    are true; through ``!`` and the terms of ``&&`` (of ``||`` when it must
    not hold)."""
    cond = strip_casts(cond)
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
    node = strip_casts(node)
    cast = False
    while True:
        while isinstance(node, c_ast.ArrayRef):
            node = strip_casts(node.name)
        if isinstance(node, c_ast.StructRef) and isinstance(node.field, c_ast.ID):
            names.append(node.field.name)
            inner = strip_casts(node.name)
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


def _var_type(name: str, scope: "Scope") -> str:
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
            st = strip_casts(st)   # (void)f();
            if isinstance(st, c_ast.FuncCall):
                out.add(id(st))
    return out


def _returns_value(fdecl) -> bool:
    """False for ``void f(...)``."""
    ret = getattr(fdecl, "type", None)
    if isinstance(ret, c_ast.TypeDecl) and isinstance(ret.type, c_ast.IdentifierType):
        return ret.type.names != ["void"]
    return True


def walk(node: Optional[c_ast.Node]) -> List[c_ast.Node]:
    """Pre-order walk without recursion (deep expressions are common)."""
    return preorder(node)


def call_args(node: c_ast.FuncCall) -> List[c_ast.Node]:
    if node.args is None:
        return []
    return list(getattr(node.args, "exprs", None) or [])


def strip_casts(node):
    while isinstance(node, c_ast.Cast):
        node = node.expr
    return node


def is_null(node) -> bool:
    if isinstance(node, c_ast.Cast):
        inner = strip_casts(node)
        return isinstance(inner, c_ast.Constant) and inner.value == "0"
    return isinstance(node, c_ast.ID) and node.name == "NULL"


def strip_casts_keep_null(node):
    """Strip casts, but keep ``(void *)0`` recognisable as NULL."""
    if isinstance(node, c_ast.Cast) and is_null(node):
        return node
    return strip_casts(node)


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
    for n in walk(items[1]):
        if isinstance(n, c_ast.StructRef):
            member = n.field.name
    return items[0].init, member
