"""Control-flow graphs of function bodies, built from pycparser ASTs.

One graph per function (``model.Function.cfg``): statement-level nodes that
list the calls and assignments they perform, in source order.  Branches,
loops, ``switch``, ``break``/``continue``, ``goto``/labels and ``return``
are followed; short-circuit operators and ``?:`` are not (all calls of a
condition belong to its node).

Error paths are marked structurally, the way QEMU code signals failure:
the branch of a condition that tests an ``Error`` (``errp``,
``local_err``), a failed call (``!f(..., errp)``, ``ret < 0``, ``if
(ret)``) and leaves (return, goto, break) or reports an error; statements
after ``error_setg()``/``error_propagate()`` in the same block; and returns
of an error value (``false``, ``NULL``, a negative number).  A branch that
only falls through (``ERRP_GUARD()``'s ``if (!errp) errp = ...``) is not an
error path.

It walks pycparser nodes, as the frontend package alone may: the graph it
returns holds model records only.  It knows QEMU's error conventions
(above) but nothing of QOM, of lifecycle phases or of rules; the calls and
assignments of each node are those functions.py recorded (it is given
their indices), and returned values are converted by functions.py's
access-path code (it is given the converter).
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

from pycparser import c_ast

from ..model import CfgNode, Expr
from .astwalk import preorder

ENTRY, EXIT = 0, 1

_ERROR_NAMES = frozenset({"errp", "err", "local_err", "local_error", "error", "errp_local"})
_STATUS_NAMES = frozenset({"ret", "rc", "r", "res", "result", "ok", "success", "status"})
_ERROR_CALL_PREFIXES = ("error_setg", "error_propagate", "error_prepend", "error_vprepend",
                        "error_set", "error_report_err")


def is_error_call(name: Optional[str]) -> bool:
    return bool(name) and name.startswith(_ERROR_CALL_PREFIXES)


def _walk(node):
    return preorder(node)


def _is_error_check(cond) -> bool:
    """Does this condition test for a failure?"""
    if cond is None:
        return False
    base = cond
    while isinstance(base, c_ast.UnaryOp) and base.op == "!":
        base = base.expr
    if isinstance(base, c_ast.ID) and base.name in _STATUS_NAMES:
        return True
    for n in _walk(cond):
        if isinstance(n, c_ast.ID) and n.name in _ERROR_NAMES:
            return True
        if isinstance(n, c_ast.BinaryOp) and n.op in ("<", "!=") and \
                isinstance(n.right, c_ast.Constant) and n.right.value == "0" and n.op == "<":
            return True
        if isinstance(n, c_ast.UnaryOp) and n.op == "-" and isinstance(n.expr, c_ast.Constant) \
                and isinstance(cond, c_ast.BinaryOp) and cond.op == "==":
            return True  # ret == -1
    return False


def _direct(stmt):
    """The statements of a branch itself, not those of nested branches."""
    items = (stmt.block_items or []) if isinstance(stmt, c_ast.Compound) else [stmt]
    for item in items:
        while isinstance(item, c_ast.Label):
            item = item.stmt
        if isinstance(item, c_ast.Compound):
            yield from _direct(item)
        elif not isinstance(item, (c_ast.If, c_ast.While, c_ast.DoWhile, c_ast.For, c_ast.Switch)):
            yield item


def _leaves(stmt) -> bool:
    """The branch itself returns or jumps away (a branch that reports an
    error and falls through, as a retry loop does, is not an exit)."""
    return any(isinstance(item, (c_ast.Return, c_ast.Goto)) for item in _direct(stmt))


def _reports_error(stmt) -> bool:
    for item in _direct(stmt):
        for n in _walk(item):
            if isinstance(n, c_ast.FuncCall) and isinstance(n.name, c_ast.ID) and is_error_call(n.name.name):
                return True
    return False


def _is_error_value(node) -> bool:
    while isinstance(node, c_ast.Cast):
        inner = node.expr
        if isinstance(inner, c_ast.Constant) and inner.value == "0":
            return True  # (void *)0
        node = inner
    if isinstance(node, c_ast.ID):
        return node.name in ("false", "NULL")
    if isinstance(node, c_ast.UnaryOp) and node.op == "-":
        return True
    return False


def _test_text(cond) -> str:
    """``x``, ``s->f.g``, ``!s->f``: the C text of a test of a plain
    variable or field; "" for anything else (calls, comparisons)."""
    if isinstance(cond, c_ast.UnaryOp) and cond.op == "!":
        inner = _test_text(cond.expr)
        return "!" + inner if inner and not inner.startswith("!") else ""
    if isinstance(cond, c_ast.ID):
        return cond.name
    if isinstance(cond, c_ast.StructRef) and isinstance(cond.field, c_ast.ID):
        base = _test_text(cond.name)
        return base + cond.type + cond.field.name if base and not base.startswith("!") else ""
    return ""


class _Ctx:
    __slots__ = ("error", "breaks", "cont", "switch")

    def __init__(self, error=False, breaks=None, cont=None, switch=None):
        self.error = error
        self.breaks = breaks
        self.cont = cont
        self.switch = switch

    def but(self, **kw) -> "_Ctx":
        c = _Ctx(self.error, self.breaks, self.cont, self.switch)
        for k, v in kw.items():
            setattr(c, k, v)
        return c


class CfgBuilder:
    """Build the graph of one function body.

    ``op_of`` maps ``id(ast node)`` of a call or assignment to its op
    (``("c", i)`` / ``("a", i)``); ``expr`` converts a returned expression."""

    def __init__(self, op_of: Dict[int, Tuple[str, int]], expr: Callable[[c_ast.Node], Expr]):
        self.op_of = op_of
        self.expr = expr
        self.kinds: List[str] = []
        self.lines: List[int] = []
        self.ops: List[Tuple[Tuple[str, int], ...]] = []
        self.errors: List[bool] = []
        self.values: List[Optional[Expr]] = []
        self.succ: List[List[int]] = []
        self.labels: Dict[str, int] = {}
        self.gotos: List[Tuple[int, str]] = []
        self.tests: Dict[int, Tuple[str, Tuple[int, ...]]] = {}   # cond node -> (test, then)
        self.test_paths: Dict[int, object] = {}                   # cond node -> tested path
        self.failures: Dict[int, Tuple[int, ...]] = {}            # retry test -> loop-back successors

    def build(self, body, returns_value: bool, last_line: Optional[int] = None) -> List[CfgNode]:
        """The graph of a function body; ``last_line``: the body's last
        line, when the caller knows it (else it is looked for)."""
        self.returns_value = returns_value
        self._node("entry", 0)
        self._node("exit", 0)
        out = self._stmt(body, [ENTRY], _Ctx())
        if out:
            end = self._node("return", self._last_line(body) if last_line is None else last_line, error=False)
            self._link(out, end)
            self._link([end], EXIT)
        for node, label in self.gotos:
            target = self.labels.get(label)
            if target is not None:
                self._link([node], target)
        return [CfgNode(kind=self.kinds[i], line=self.lines[i], ops=self.ops[i],
                        succ=tuple(sorted(set(self.succ[i]))), error=self.errors[i],
                        value=self.values[i], test=self.tests.get(i, ("", ()))[0],
                        then=self.tests.get(i, ("", ()))[1], test_path=self.test_paths.get(i),
                        failure=self.failures.get(i, ()))
                for i in range(len(self.kinds))]

    # -- helpers -------------------------------------------------------------
    def _node(self, kind: str, line: int, ops=(), error=False, value=None) -> int:
        self.kinds.append(kind)
        self.lines.append(line)
        self.ops.append(tuple(ops))
        self.errors.append(error)
        self.values.append(value)
        self.succ.append([])
        return len(self.kinds) - 1

    def _link(self, preds: List[int], n: int) -> None:
        for p in preds:
            self.succ[p].append(n)

    def _ops(self, node) -> List[Tuple[str, int]]:
        """Calls and assignments inside an expression (or a declaration),
        in source order; nested statement expressions included."""
        if node is None:
            return []
        found = []
        for n in _walk(node):
            op = self.op_of.get(id(n))
            if op is not None:
                found.append(op)
        return found

    @staticmethod
    def _line(node) -> int:
        coord = getattr(node, "coord", None)
        return (coord.line or 0) if coord is not None else 0

    def _last_line(self, body) -> int:
        return max((self._line(n) for n in _walk(body)), default=0)

    def _simple(self, stmt, preds, ctx, kind="stmt") -> List[int]:
        n = self._node(kind, self._line(stmt), self._ops(stmt), error=ctx.error)
        self._link(preds, n)
        return [n]

    # -- statements ----------------------------------------------------------
    def _stmt(self, s, preds: List[int], ctx: _Ctx) -> List[int]:
        if s is None:
            return preds
        if isinstance(s, c_ast.Compound):
            block = ctx.but()
            items = list(s.block_items or ())
            for i, item in enumerate(items):
                if isinstance(item, c_ast.Label):
                    block.error = False
                preds = self._stmt(item, preds, block)
                if isinstance(item, c_ast.FuncCall) and isinstance(item.name, c_ast.ID) \
                        and is_error_call(item.name.name) \
                        and any(isinstance(x, (c_ast.Return, c_ast.Goto)) for x in items[i + 1:]):
                    block.error = True   # error_setg(...); ... return;
            return preds
        if isinstance(s, c_ast.If):
            c = self._simple(s.cond, preds, ctx, "cond")
            then_err = ctx.error or ((_is_error_check(s.cond) or _reports_error(s.iftrue))
                                     and _leaves(s.iftrue))
            first = len(self.kinds)
            out = self._stmt(s.iftrue, c, ctx.but(error=then_err))
            test = _test_text(s.cond)
            then = tuple(sorted({n for n in self.succ[c[0]] if first <= n < len(self.kinds)}))
            if test and then:
                self.tests[c[0]] = (test, then)
                tested = s.cond.expr if test.startswith("!") else s.cond
                if isinstance(tested, c_ast.StructRef):
                    e = self.expr(tested)
                    if e.kind == "path" and e.path is not None and e.path.steps:
                        self.test_paths[c[0]] = e.path
            if s.iffalse is not None:
                else_err = ctx.error or (_reports_error(s.iffalse) and _leaves(s.iffalse))
                out = out + self._stmt(s.iffalse, c, ctx.but(error=else_err))
            else:
                out = out + c
            return out
        if isinstance(s, c_ast.While):
            c = self._simple(s.cond, preds, ctx, "cond")
            breaks: List[int] = []
            first = len(self.kinds)
            body = self._stmt(s.stmt, c, ctx.but(breaks=breaks, cont=c[0]))
            if _is_error_check(s.cond):
                self.failures[c[0]] = tuple(n for n in self.succ[c[0]] if n >= first)
            self._link(body, c[0])
            return c + breaks
        if isinstance(s, c_ast.DoWhile):
            head = self._node("stmt", self._line(s), error=ctx.error)
            self._link(preds, head)
            c = self._node("cond", self._line(s.cond), self._ops(s.cond), error=ctx.error)
            breaks = []
            body = self._stmt(s.stmt, [head], ctx.but(breaks=breaks, cont=c))
            self._link(body, c)
            self._link([c], head)
            if _is_error_check(s.cond):
                self.failures[c] = (head,)
            return [c] + breaks
        if isinstance(s, c_ast.For):
            init = self._simple(s.init, preds, ctx) if s.init is not None else preds
            c = self._simple(s.cond, init, ctx, "cond")
            nxt = self._node("stmt", self._line(s.next) if s.next is not None else self._line(s),
                             self._ops(s.next), error=ctx.error)
            breaks = []
            body = self._stmt(s.stmt, c, ctx.but(breaks=breaks, cont=nxt))
            self._link(body, nxt)
            self._link([nxt], c[0])
            return c + breaks
        if isinstance(s, c_ast.Switch):
            c = self._simple(s.cond, preds, ctx, "cond")
            breaks = []
            inner = ctx.but(breaks=breaks, switch=c[0])
            out = self._stmt(s.stmt, [], inner)
            has_default = any(isinstance(n, c_ast.Default) for n in _walk(s.stmt))
            return out + breaks + ([] if has_default else c)
        if isinstance(s, (c_ast.Case, c_ast.Default)):
            n = self._node("label", self._line(s), error=ctx.error)
            self._link(preds, n)
            if ctx.switch is not None:
                self._link([ctx.switch], n)
            out = [n]
            for st in s.stmts or ():
                out = self._stmt(st, out, ctx)
            return out
        if isinstance(s, c_ast.Break):
            n = self._node("stmt", self._line(s), error=ctx.error)
            self._link(preds, n)
            if ctx.breaks is not None:
                ctx.breaks.append(n)
            return []
        if isinstance(s, c_ast.Continue):
            if ctx.cont is not None:
                self._link(preds, ctx.cont)
            return []
        if isinstance(s, c_ast.Return):
            value = self.expr(s.expr) if s.expr is not None else None
            err = ctx.error or (self.returns_value and _is_error_value(s.expr))
            n = self._node("return", self._line(s), self._ops(s.expr), error=err, value=value)
            self._link(preds, n)
            self._link([n], EXIT)
            return []
        if isinstance(s, c_ast.Goto):
            n = self._node("stmt", self._line(s), error=ctx.error)
            self._link(preds, n)
            self.gotos.append((n, s.name))
            return []
        if isinstance(s, c_ast.Label):
            n = self._node("label", self._line(s), error=False)
            self._link(preds, n)
            self.labels[s.name] = n
            return self._stmt(s.stmt, [n], ctx.but(error=False))
        return self._simple(s, preds, ctx)
