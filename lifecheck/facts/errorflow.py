"""Error exits of one function: what a path acquired and then left behind.

A forward may-analysis over a function's control-flow graph
(``model.Function.cfg``): the error-exit leak kind runs it on realize
hooks (resources of the device) and on every function (objects held in
locals).  It knows the Error conventions of include/qapi/error.h: a
failing call that reports through an ``Error **`` undoes its own work.
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Set, Tuple

from ..graph import translate_path
from ..model import LOCAL, PARAM, SELF, AccessPath, Function, key_within
from .api import ALL, Op, list_key, root_allowed

_ERROR_ARG_RE = re.compile(r"(\berrp\b|&\s*(local_err|err|error|local_error)\b)")
_PLAIN_NAME_RE = re.compile(r"^!?[A-Za-z_]\w*$")


def takes_errp(site) -> bool:
    """A call that can fail and say so in an Error argument.  The Error
    API itself (error_prepend(), error_report_err(), error_propagate(),
    warn_report_err(), ...: include/qapi/error.h) only reports or moves an
    error that some earlier call made."""
    if (site.callee or "").startswith(("error_", "warn_")):
        return False
    return any(_ERROR_ARG_RE.search(a.text or "") for a in site.args)


def error_exit_leaks(fn: Function, ops_at, families: Set[str], roots, on_self: bool = False,
                     never_set=None, survives=None, failing_exits: bool = False) -> Dict[Tuple[str, str, Op], int]:
    """Forward may-analysis over ``fn.cfg``.  State: set of (family, key,
    acquiring op, path-has-failed, fresh, decisions).  ``fresh`` marks what
    the latest call taking an Error argument acquired: when the next error
    branch is taken, that call is the one that failed, and a failing call
    undoes its own work (include/qapi/error.h), so on that branch it
    acquired nothing.  ``decisions``: the outcomes of the tests of plain
    values that the function makes more than once and never assigns
    (``if (!s->migratable)`` around both the acquisition and the release):
    a later test of the same value goes the same way on that path, and
    what was acquired under a test (``Event.guards``, in a helper too)
    exists only where that test holds.  ``on_self``: the function is a
    hook whose first parameter is the device (tests of its fields are
    compared with the guards; ``never_set(path)``: a field still zero
    while realizing, whose tests are false).  The entry (family None)
    carries the path's own flags.  ``survives(op)``: the acquisition is
    left behind even when the call that made it fails (a device helper
    whose own error exit does not release it): never fresh.
    ``failing_exits``: only the error exits that return a failure count
    (``return false``, ``return NULL``, ``return -EINVAL``, ``return ret``,
    a bare ``return``): a helper's exit that returns a call's status or a
    computed value (``return !ret``) may be its success.  A test of the
    resource itself (``if (s->timer) timer_free(s->timer)``, on a hook's
    device; ``if (chr) object_unref(chr)``, a local) holds only where it
    was acquired.
    Returns {(family, key, op): line of the first error exit that leaves it
    unreleased}."""
    cfg = fn.cfg
    unwritten = _unwritten_tests(fn)
    counts: Dict[str, int] = {}
    for node in cfg:
        if node.test:
            counts[node.test.lstrip("!")] = counts.get(node.test.lstrip("!"), 0) + 1
    guarded: Set[str] = set()
    if on_self:
        for i in range(len(fn.calls)):
            for op in ops_at(i):
                guarded.update(g.key() for g in op.event.guards)
    self_env = {0: AccessPath(SELF)}

    def value_of(node) -> Tuple[str, Optional[bool]]:
        """(key of the value the node tests, its known value or None)"""
        text = node.test.lstrip("!")
        if not text or text not in unwritten:
            return "", None
        if on_self and node.test_path is not None and node.test_path.root.startswith(PARAM + ":"):
            path = translate_path(node.test_path, self_env)
            if path.root == SELF:
                if never_set is not None and never_set(path):
                    return path.key(), False
                if path.key() in guarded or counts[text] > 1:
                    return path.key(), None
                return "", None
        return (text, None) if counts[text] > 1 else ("", None)
    start = frozenset({(None, None, None, False, False, frozenset())})
    state_in: Dict[int, frozenset] = {0: start}
    work = [0]
    leaks: Dict[Tuple[str, str, Op], int] = {}
    acquired_at: Dict[int, int] = {}                 # id(op) -> node
    loop_releases: Dict[Tuple[str, str], Set[int]] = {}  # (family, key or ALL) -> nodes
    visits = 0
    while work and visits < 20000:
        visits += 1
        n = work.pop()
        node = cfg[n]
        st = set(state_in.get(n, ()))
        if node.error:
            st = {(f, k, o, True, fr, d) for (f, k, o, _, fr, d) in st}
        for kind, idx in node.ops:
            if kind == "a":
                a = fn.assignments[idx]
                rhs = a.rhs.path
                lhs = a.lhs.path
                if rhs is not None and lhs is not None and lhs.root_kind != LOCAL:
                    k = rhs.key()
                    st = {e for e in st if e[1] != k}      # stored away: owned elsewhere now
                continue
            site = fn.calls[idx] if 0 <= idx < len(fn.calls) else None
            ops = list(ops_at(idx))
            # the call whose failure the next error check tests: one taking
            # an Error, one made in the condition itself, or one whose
            # status (not the resource) goes into a local: ret = f(...)
            status_local = site is not None and site.result is not None \
                and site.result.root_kind == LOCAL \
                and not any(op.key == list_key(site.result) for op in ops)
            if site is not None and (takes_errp(site) or node.kind == "cond" or status_local):
                st = {(f, k, o, fl, False, d) for (f, k, o, fl, _, d) in st}
                fresh = True
            else:
                fresh = None   # keeps whatever freshness it adds to
            for op in ops:
                if op.family not in families:
                    continue
                if op.role == "release" and "all" in op.attrs:
                    st = {e for e in st if e[0] != op.family}
                    loop_releases.setdefault((op.family, ALL), set()).add(n)
                elif op.role == "release" and op.key is not None:
                    st = {e for e in st if not (e[1] == op.key and e[0] == op.family)}
                    if "[]" in op.key:
                        loop_releases.setdefault((op.family, op.key), set()).add(n)
                elif op.role == "acquire" and op.path is not None and root_allowed(op.path, roots, op.attrs):
                    acquired_at[id(op)] = n
                    paths = {(e[3], e[5]) for e in st if e[0] is None} or {(False, frozenset())}
                    under = frozenset((g.key(), True) for g in op.event.guards) if on_self else frozenset()
                    kept = bool(fresh) and not (survives is not None and survives(op))
                    st |= {(op.family, op.key, op, f, kept, d | under) for f, d in paths
                           if not any((k, not v) in d for k, v in under)}
        if node.kind == "return" and (not failing_exits or returns_failure(node.value)):
            returned = node.value.path.key() if node.value is not None and node.value.path else None
            for (f, k, o, failed, _, _) in st:
                if failed and o is not None and k != returned:
                    leaks.setdefault((f, k, o), node.line)
        # the first test after the call that can lead to an error exit is the
        # one about its failure; a test that cannot (a retry loop's
        # ``while (ret < 0 && retries--)``) leaves the question open
        tests = node.kind == "cond" and any(cfg[s].error for s in node.succ)
        value, known = value_of(node) if node.test else ("", None)
        tested = ""   # a field of the device, or a local, the node tests (held where the test is true)
        if on_self and node.test_path is not None and node.test_path.root.startswith(PARAM + ":"):
            path = translate_path(node.test_path, self_env)
            tested = path.key() if path.root == SELF else ""
        elif node.test and _PLAIN_NAME_RE.match(node.test):
            # ``if (chr) object_unref(chr)``: where the local is NULL, what it held was never acquired
            tested = f"{LOCAL}:{node.test.lstrip('!')}"
        for s in node.succ:
            out = st
            if tested and (s in node.then) == node.test.startswith("!"):
                # ``if (s->t) timer_free(s->t)``: where s->t is NULL, it was not acquired
                out = {e for e in out if not (e[1] is not None and (e[1] == tested or key_within(tested, e[1])))}
            if s in node.failure:
                out = {e for e in st if not e[4]}   # retried because the call failed: it acquired nothing
            if tests:
                if cfg[s].error and not node.error:
                    out = {e for e in st if not e[4]}   # the call that failed acquired nothing
                out = {(f, k, o, fl, False, d) for (f, k, o, fl, _, d) in out}
            if value:
                holds = (s in node.then) != node.test.startswith("!")   # the value is true here
                if known is not None and holds != known:
                    continue
                out = {(f, k, o, fl, fr, d | {(value, holds)}) for (f, k, o, fl, fr, d) in out
                       if (value, not holds) not in d}
            old = state_in.get(s)
            new = frozenset(out) if old is None else old | out
            if new != old:
                state_in[s] = new
                work.append(s)
    if loop_releases and leaks:
        leaks = _drop_loop_released(cfg, leaks, acquired_at, loop_releases)
    return leaks


def returns_failure(value) -> bool:
    """The returned expression says the function failed, as an error
    exit's return does: none (a void function), NULL, false, a negative
    constant or errno (``-1``, ``-EINVAL``), or a status variable."""
    if value is None or value.kind == "null":
        return True
    text = (value.text or "").replace(" ", "")
    if value.kind == "const":
        # ``false`` reaches the parser as 0 (stdbool.h): taken as the
        # failure of a bool helper, the usual shape of one taking errp
        return text in ("0", "false") or text.startswith("-")
    if value.kind == "path":
        return value.path is not None and not value.path.steps and not value.path.address_of
    return text.startswith("-") and "(" not in text   # -EINVAL, -errno


def _unwritten_tests(fn: Function) -> Set[str]:
    """Values the function tests (``s->f``, ``x``) and never assigns or
    passes by address."""
    values = {node.test.lstrip("!") for node in fn.cfg if node.test}
    if not values:
        return values
    written = set()
    for a in fn.assignments:
        written.add((a.lhs.text or "").replace(" ", ""))
    for site in fn.calls:
        for arg in site.args:
            t = (arg.text or "").replace(" ", "")
            if t.startswith("&"):
                written.add(t[1:].strip("()"))
    out = set()
    for v in values:
        compact = v.replace(" ", "")
        if any(w == compact or w.startswith(compact + ".") or w.startswith(compact + "->")
               or compact.startswith(w + ".") or compact.startswith(w + "->") for w in written):
            continue
        out.add(v)
    return out


def cfg_reachable(cfg, start: int) -> Set[int]:
    """The nodes of a control-flow graph reachable from ``start`` (itself included)."""
    seen = {start}
    todo = [start]
    while todo:
        for s in cfg[todo.pop()].succ:
            if s not in seen:
                seen.add(s)
                todo.append(s)
    return seen


def _drop_loop_released(cfg, leaks, acquired_at, loop_releases):
    """Elements of an array (``s->vqs[i]``) are released in a loop, and
    the may-analysis also follows the loop's zero-iteration path past the
    release.  An element leak is dropped when a release of that array (or
    of the whole family, ``virtio_del_queue()``) lies between the
    acquisition and the exit."""
    reach: Dict[int, Set[int]] = {}

    def reaches(a: int, b: int) -> bool:
        if a not in reach:
            reach[a] = cfg_reachable(cfg, a)
        return b in reach[a]
    exits = {}
    for n, node in enumerate(cfg):
        if node.kind == "return":
            exits.setdefault(node.line, []).append(n)
    out = {}
    for (fam, key, op), line in leaks.items():
        nodes = set(loop_releases.get((fam, ALL), ()))
        if "[]" in key:
            nodes |= loop_releases.get((fam, key), set())
        a = acquired_at.get(id(op))
        if nodes and a is not None and any(
                reaches(a, r) and any(reaches(r, x) for x in exits.get(line, ())) for r in nodes):
            continue
        out[(fam, key, op)] = line
    return out
