"""Error exits of one function: what a path acquired and then left behind.

A forward may-analysis over a function's control-flow graph
(``model.Function.cfg``): the error-exit leak kind runs it on realize
hooks (resources of the device) and on every function (objects held in
locals).  It knows the Error conventions of include/qapi/error.h: a
failing call that reports through an ``Error **`` undoes its own work.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Set, Tuple

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


_SETS_ERROR = ("error_setg", "error_propagate", "error_set")


def can_fail(program, fn: Function, site, memo: Optional[Dict] = None, depth: int = 0) -> bool:
    """The call ``site`` of ``fn`` passes an Error argument to a function
    that sets it on some path: its body calls error_setg*() /
    error_set*() / error_propagate*() on its own Error parameter, or
    passes that parameter to a function that can fail (followed a few
    calls deep).  A function lifecheck has no body for is not assumed to
    fail (its failure would be a guess)."""
    if not takes_errp(site):
        return False
    memo = {} if memo is None else memo
    key = program.resolve(fn.file, site.callee)
    callee = program.functions.get(key) if key is not None else None
    if callee is None or depth > 4:
        return False
    if key in memo:
        return memo[key]
    memo[key] = False   # a cycle does not fail by itself
    names = [p.name for p in callee.params if "Error" in p.type and "**" in p.type.replace(" ", "")]
    result = False
    for inner in callee.calls if names else ():
        if not any((a.text or "").replace(" ", "") in names for a in inner.args):
            continue
        if (inner.callee or "").startswith(_SETS_ERROR) \
                or can_fail(program, callee, inner, memo, depth + 1):
            result = True
            break
    memo[key] = result
    return result


def unchecked_failures(fn: Function, fails) -> Set[int]:
    """The nodes of ``fn.cfg`` making a call that can fail (``fails(site)``)
    and reports it only through the Error argument, after which the
    function returns with no test at all (``...; cxl_doe_cdat_init(c,
    errp); }``): when that call fails, the function fails at that return
    with everything it acquired before still held."""
    cfg = fn.cfg
    out: Set[int] = set()
    for n, node in enumerate(cfg):
        if node.kind != "stmt" or node.error:
            continue
        calls = [idx for kind, idx in node.ops if kind == "c" and 0 <= idx < len(fn.calls)]
        last = [idx for idx in calls if takes_errp(fn.calls[idx])]
        if not last or not fails(fn.calls[last[-1]]):
            continue
        # nothing before the return takes an Error or tests anything
        m, seen = n, {n}
        while True:
            succ = cfg[m].succ
            if len(succ) != 1 or succ[0] in seen:
                break
            m = succ[0]
            seen.add(m)
            nxt = cfg[m]
            if nxt.kind == "return" or nxt.kind not in ("stmt", "label") \
                    or any(k == "c" and takes_errp(fn.calls[i]) for k, i in nxt.ops):
                break
        if cfg[m].kind == "return" and cfg[m].value is None:
            out.add(n)
    return out


def error_exit_leaks(fn: Function, ops_at, families: Set[str], roots, on_self: bool = False,
                     never_set=None, survives=None, failing_exits: bool = False,
                     unchecked: Set[int] = frozenset(),
                     cannot_fail=None, settled: Optional[Dict[int, bool]] = None) -> Dict[Tuple[str, str, Op], int]:
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
    computed value (``return !ret``) may be its success.  ``unchecked``:
    nodes whose call can fail and is followed only by a plain return
    (``unchecked_failures``): from there the path also goes on as failed,
    without what that call acquired.  ``cannot_fail(site)``: the call
    fails only by a programming error (``on_failure.never_if_constant``):
    the error branch of the test of its failure is never taken.
    ``settled``: node -> the value its test reads (before any ``!``) has
    whatever the path (a class callback the device's class sets:
    ``if (rpc->interrupts_uninit)``, ``Program.class_tests``): only the
    branch where it has that value is taken.  A test of the
    resource itself (``if (s->timer) timer_free(s->timer)``, on a hook's
    device; ``if (chr) object_unref(chr)``, a local) holds only where it
    was acquired.
    Returns {(family, key, op): line of the first error exit that leaves it
    unreleased}."""
    cfg = fn.cfg
    unwritten = _unwritten_tests(fn)
    infallible = _infallible_tests(fn, cannot_fail) if cannot_fail is not None else set()
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
                st = {(f, k, o, fl, False, d) for (f, k, o, fl, _, d) in st if f not in _MARKS}
                fresh = True
            else:
                fresh = None   # keeps whatever freshness it adds to
            for op in ops:
                for what, wiped in op.on_failure if op.role == "acquire" else ():
                    if what == "wipes":
                        # settled by the test of this call's failure (below)
                        st.add((WIPE, wiped.key(), None, False, True, frozenset()))
                    elif what == "clears":
                        st.add((CLEAR, list_key(wiped), None, False, True, frozenset()))
                if op.family not in families:
                    continue
                if op.role == "release" and "all" in op.attrs:
                    st = {e for e in st if e[0] != op.family}
                    loop_releases.setdefault((op.family, ALL), set()).add(n)
                elif op.role == "release" and op.key is not None:
                    # a copy kept in a local (``vqs = g_new0(); s->dev.vqs = vqs;``)
                    # still reaches what a failed call wiped from the struct
                    keys = {op.key, op.key + WIPED} if _by_local(op) else {op.key}
                    st = {e for e in st if not (e[1] in keys and e[0] == op.family)}
                    if "[]" in op.key:
                        loop_releases.setdefault((op.family, op.key), set()).add(n)
                elif op.role == "acquire" and op.path is not None and root_allowed(op.path, roots, op.attrs):
                    acquired_at[id(op)] = n
                    paths = {(e[3], e[5]) for e in st if e[0] is None} or {(False, frozenset())}
                    under = frozenset((g.key(), True) for g in op.event.guards) if on_self else frozenset()
                    kept = bool(fresh) and not (survives is not None and survives(op))
                    st |= {(op.family, op.key, op, f, kept, d | under) for f, d in paths
                           if not any((k, not v) in d for k, v in under)}
        if n in unchecked:
            # the call may have failed: a failed copy of the path, without
            # what the failing call acquired (it undid its own work)
            st |= {(f, k, o, True, False, d) for (f, k, o, _, fr, d) in st if not (fr and o is not None)}
        if node.kind == "return" and (not failing_exits or returns_failure(node.value)):
            returned = node.value.path.key() if node.value is not None and node.value.path else None
            for (f, k, o, failed, _, _) in st:
                if failed and o is not None and k != returned:
                    leaks.setdefault((f, k.split(WIPED, 1)[0], o), node.line)
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
        fixed = settled.get(n) if settled else None
        for s in node.succ:
            if fixed is not None and ((s in node.then) != node.test.startswith("!")) != fixed:
                continue
            out = st
            if tested and (s in node.then) == node.test.startswith("!"):
                # ``if (s->t) timer_free(s->t)``: where s->t is NULL, it was not acquired
                out = {e for e in out if not (e[1] is not None and (e[1] == tested or key_within(tested, e[1])))}
            if s in node.failure:
                out = {e for e in st if not e[4]}   # retried because the call failed: it acquired nothing
            if tests:
                if cfg[s].error and not node.error and n in infallible:
                    continue
                if cfg[s].error and not node.error:
                    out = _cleared(_wiped(out))
                    out = {e for e in out if not e[4]}   # the call that failed acquired nothing
                out = {(f, k, o, fl, False, d) for (f, k, o, fl, _, d) in out if f not in _MARKS}
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


_WORD_RE = re.compile(r"[A-Za-z_]\w*")


def _infallible_tests(fn: Function, cannot_fail) -> Set[int]:
    """The nodes that test the failure of a call that cannot fail: the
    call is made in the test itself (``if (pci_add_capability(...) < 0)``)
    or its status went into a local that nothing else assigns and that the
    test reads (``off = pci_add_capability(...); if (off < 0)``)."""
    status: Dict[str, list] = {}
    for site in fn.calls:
        r = site.result
        if r is not None and r.root_kind == LOCAL and not r.steps:
            status.setdefault(r.root.split(":", 1)[1], []).append(site)
    for a in fn.assignments:
        lhs = a.lhs.path
        if lhs is not None and lhs.root_kind == LOCAL and not lhs.steps:
            status.setdefault(lhs.root.split(":", 1)[1], []).append(None)
    preds: Dict[int, List[int]] = {}
    for n, node in enumerate(fn.cfg):
        for s in node.succ:
            preds.setdefault(s, []).append(n)

    def last_call(n: int):
        """The call made last before node ``n`` on its only way in."""
        seen = set()
        while len(preds.get(n, ())) == 1 and n not in seen:
            seen.add(n)
            n = preds[n][0]
            calls = [idx for kind, idx in fn.cfg[n].ops if kind != "a" and 0 <= idx < len(fn.calls)]
            if calls:
                return fn.calls[calls[-1]]
            if fn.cfg[n].kind == "cond":
                return None
        return None

    out = set()
    for n, node in enumerate(fn.cfg):
        if node.kind != "cond" or not any(fn.cfg[s].error for s in node.succ):
            continue
        sites = [fn.calls[idx] for kind, idx in node.ops if kind != "a" and 0 <= idx < len(fn.calls)]
        if not sites and node.test:
            for name in set(_WORD_RE.findall(node.test)):
                made = status.get(name)
                if made and len(made) == 1 and made[0] is not None:
                    sites.append(made[0])
        if not sites:
            site = last_call(n)
            sites = [site] if site is not None else []
        if sites and all(cannot_fail(site) for site in sites):
            out.add(n)
    return out


# a pending wipe (an acquire call's on_failure "wipes"), and the mark of
# what a failed call wiped away: its release by the old path frees nothing
WIPE, WIPED = "#wipe", "~wiped"
# a pending clear (an acquire call's on_failure "clears"): on the branch
# where that call failed, what the argument pointed to is released
CLEAR = "#clear"
_MARKS = (WIPE, CLEAR)


def _cleared(st: set) -> set:
    """``st`` on the branch where the call that made the pending clears
    failed: what those arguments pointed to is no longer held
    (migrate_add_blocker() has freed the Error and set the field to NULL)."""
    keys = {k for (f, k, _, _, fr, _) in st if f == CLEAR and fr}
    if not keys:
        return st
    return {e for e in st if e[0] in _MARKS or e[0] is None or e[1] not in keys}


def _wiped(st: set) -> set:
    """``st`` on the branch where the call that made the pending wipes
    failed: what the wiped structs held is out of reach of its releases
    (``g_free(s->dev.vqs)`` after vhost_dev_init() failed frees NULL)."""
    wipes = [k for (f, k, _, _, fr, _) in st if f == WIPE and fr]
    if not wipes:
        return st
    out = set()
    for (f, k, o, fl, fr, d) in st:
        if f not in (None,) + _MARKS and k is not None and WIPED not in k \
                and any(k == w or key_within(k, w) for w in wipes):
            k = k + WIPED
        out.add((f, k, o, fl, fr, d))
    return out


def _by_local(op: Op) -> bool:
    """The release names its resource by a plain local of the caller
    (``g_free(vqs)``), not through the struct it lives in."""
    for i, arg in enumerate(op.event.args):
        if arg.path is not None and arg.path == op.path and i < len(op.event.site.args):
            text = (op.event.site.args[i].text or "").strip()
            return text.isidentifier()
    return False


def failure_double_releases(fn: Function, ops_at) -> List[Tuple[Op, Op]]:
    """Releases made on the failure branch of an acquire call whose own
    failure already released that argument (rules/api ``on_failure``:
    vhost_dev_init() failing has closed the descriptor it was handed):
    (the acquire op, the second release op).  The failure branch is the
    first test after the call that can lead to an error exit, as in
    ``error_exit_leaks``; an assignment to the released value
    (``vhostfd = -1``) ends it."""
    cfg = fn.cfg
    # state: (key, family, acquire op, settled): settled once the failure test was passed
    state_in: Dict[int, frozenset] = {0: frozenset()}
    work = [0]
    out: Dict[int, Tuple[Op, Op]] = {}
    visits = 0
    while work and visits < 20000:
        visits += 1
        n = work.pop()
        node = cfg[n]
        st = set(state_in.get(n, ()))
        for kind, idx in node.ops:
            if kind == "a":
                lhs = fn.assignments[idx].lhs.path
                if lhs is not None:
                    st = {e for e in st if e[0] != lhs.key()}
                continue
            for op in ops_at(idx):
                if op.role == "release" and op.key is not None:
                    for (k, fam, acq, settled) in st:
                        if settled and k == op.key and fam == op.family:
                            out.setdefault(id(op), (acq, op))
                    st = {e for e in st if not (e[0] == op.key and e[1] == op.family)}
                elif op.role == "acquire":
                    for what, path in op.on_failure:
                        if what == "releases" and op.released_as:
                            st.add((list_key(path), op.released_as, op, False))
        tests = node.kind == "cond" and any(cfg[x].error for x in node.succ)
        for x in node.succ:
            out_st = st
            if tests:
                failed = cfg[x].error and not node.error
                out_st = {(k, f, o, True) for (k, f, o, settled) in st if settled or failed}
            old = state_in.get(x)
            new = frozenset(out_st) if old is None else old | out_st
            if new != old:
                state_in[x] = new
                work.append(x)
    return list(out.values())


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
