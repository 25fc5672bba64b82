"""Deviant error exits: the exit that forgets what the others release.

Hector (Saha, Lawall, Muller, Palix, DSN 2013) finds resource leaks on
error paths without knowing the API: when the error exits of a function
that follow an acquisition release the acquired value, an error exit that
follows the same acquisition and does not is the deviant one.  The
function's own code is the specification, so this works for device
helpers and APIs that rules/api does not list.

This module does it on one function's control-flow graph
(``model.Function.cfg``), with no inlining:

- an *acquisition* is a call whose result is kept (``p = foo_new(...)``);
- a *release* of it is a call made as a statement of its own, on an error
  node, whose whole argument is the kept value (``foo_free(p);``), and
  whose name says it releases (a release verb of rules/tables/pairing.toml
  as a word of the name, or a release call of the API tables);
- an exit *releases* the acquisition when a release of it lies on every
  path from the acquisition to the exit; the exits that do are the
  evidence, one that follows the same acquisition with no release on some
  path is the deviant exit.

The value's own failure check is no exit that must release it
(``p = foo_new(); if (!p) return;``: the first error test after the call
is about that call, as in errorflow), a value stored elsewhere or returned
is owned elsewhere, and a local released at scope exit (``g_autoptr``) is
never reported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from ..model import LOCAL, AccessPath, CallSite, Function, key_within
from .errorflow import cfg_reachable, takes_errp

# calls that report, log or trace: never releases, never hand-offs
_QUIET_PREFIXES = ("error_", "warn_", "trace_", "qemu_log", "printf", "fprintf", "g_warning",
                   "g_debug", "g_message", "g_assert", "assert", "info_report", "qemu_printf")


@dataclass(frozen=True)
class DeviantExit:
    """An error exit that leaves ``key`` (acquired by ``acquire``)
    unreleased while ``evidence`` other error exits release it with one of
    ``releases``."""

    acquire: CallSite
    path: AccessPath                   # where the acquired value is kept
    exit_line: int
    releases: Tuple[str, ...]          # the release calls the other exits make
    evidence: Tuple[int, ...]          # lines of the releasing exits


def release_words(verbs: Iterable[Tuple[str, str]]) -> FrozenSet[str]:
    """The release verbs of the name-pairing table."""
    return frozenset(release for _, release in verbs)


def looks_like_release(name: str, words: FrozenSet[str], known: FrozenSet[str]) -> bool:
    """``name`` releases by its name: a release call of the API tables, or
    one with a release verb among its words (``fifo8_destroy``,
    ``close``, ``vhost_user_cleanup``)."""
    if name in known:
        return True
    return any(w in words for w in name.split("_"))


def _quiet(name: Optional[str]) -> bool:
    return not name or name.startswith(_QUIET_PREFIXES)


def _whole_args(site: CallSite) -> Set[str]:
    """Keys of the values passed whole (``f(p)``, ``f(OBJECT(p))``)."""
    return {a.path.key() for a in site.args if a.path is not None and not a.path.address_of}


def deviant_exits(fn: Function, words: FrozenSet[str], known: FrozenSet[str],
                  roots: Tuple[str, ...] = (LOCAL,),
                  handoff_words: FrozenSet[str] = frozenset()) -> List[DeviantExit]:
    """The deviant error exits of ``fn`` for values held under ``roots``
    (locals by default: what no caller and no later hook can see)."""
    cfg = fn.cfg
    if not cfg or not any(n.error and n.kind == "return" for n in cfg) \
            or all(n.error for n in cfg if n.kind == "return"):
        return []   # no error exit, or no other (a thread's body returning NULL everywhere)
    # acquisitions: calls whose result is kept under one of the roots
    acquired: Dict[int, str] = {}
    for site in fn.calls:
        path = site.result
        if path is None or _quiet(site.callee) or path.address_of:
            continue
        if path.root_kind not in roots and path.root not in roots:
            continue
        name = path.root.split(":", 1)[-1] if path.root_kind == LOCAL else ""
        local = fn.locals.get(name) if name else None
        if local is not None and local.cleanup:
            continue   # g_autofree / g_autoptr: released at scope exit
        acquired[site.index] = path.key()
    if not acquired:
        return []
    keys = set(acquired.values())
    # releases: statements that take the value whole as first argument
    release_at: Dict[int, List[Tuple[str, str]]] = {}     # call index -> [(key, callee)]
    for site in fn.calls:
        if not site.discarded or _quiet(site.callee) or site.index in acquired or not site.args:
            continue
        first = site.args[0].path
        if first is None or first.address_of or first.key() not in keys:
            continue
        if looks_like_release(site.callee, words, known):
            release_at.setdefault(site.index, []).append((first.key(), site.callee))
    released_keys = {k for pairs in release_at.values() for k, _ in pairs}
    acquired = {i: k for i, k in acquired.items() if k in released_keys}
    if not acquired:
        return []
    handoff = _handoffs(fn, set(acquired.values()), handoff_words)
    texts = {str(fn.calls[i].result).replace(" ", ""): k for i, k in acquired.items()}
    carried = _carried_edges(cfg, {i: n for n, node in enumerate(cfg)
                                   for kind, i in node.ops if kind == "c" and i in acquired})
    # forward may-analysis: (acquiring call, released-on-this-path, fresh,
    # a part passed to the call whose failure the next error test is about,
    # excused)
    state_in: Dict[int, frozenset] = {0: frozenset()}
    at_exit: Dict[int, Set[Tuple[int, FrozenSet[str]]]] = {}
    work = [0]
    visits = 0
    while work and visits < 20000:
        visits += 1
        n = work.pop()
        node = cfg[n]
        st = set(state_in.get(n, ()))
        for kind, idx in node.ops:
            if kind == "a":
                a = fn.assignments[idx]
                if a.rhs.path is not None and a.lhs.path is not None \
                        and a.lhs.path.root_kind != LOCAL:
                    k = a.rhs.path.key()
                    st = {e for e in st if acquired[e[0]] != k}   # stored away: owned elsewhere
                elif a.lhs.path is not None:
                    k = a.lhs.path.key()
                    st = {e for e in st if acquired[e[0]] != k}   # overwritten (p = NULL)
                continue
            if not (0 <= idx < len(fn.calls)):
                continue
            site = fn.calls[idx]
            if site.result is not None or node.kind == "cond" or takes_errp(site):
                # the next error test is about this call, not the earlier ones
                passed = _passed(site)
                st = {(a, r, False, _holds(acquired[a], passed), x) for a, r, _, _, x in st}
            for k, callee in release_at.get(idx, ()):
                st = {(a, r | {callee} if acquired[a] == k else r, f, p, x) for a, r, f, p, x in st}
            if idx in handoff:
                st = {e for e in st if acquired[e[0]] not in handoff[idx]}
            if idx in acquired:
                k = acquired[idx]
                st = {e for e in st if acquired[e[0]] != k}
                st.add((idx, frozenset(), True, False, False))
        if node.kind == "return" and node.error:
            # excused: a value still fresh (no call that could fail since it
            # was acquired: the exit is about the acquisition itself, as in
            # ``if (fd == -1) ... else if (errno != ENOENT) return -1;``),
            # or one the failing call was given a hold of
            returned = node.value.path.key() if node.value is not None and node.value.path else None
            at_exit.setdefault(n, set()).update(
                (a, r) for a, r, f, p, x in st if acquired[a] != returned and (r or not (f or p or x)))
        tests = node.kind == "cond" and any(cfg[s].error for s in node.succ)
        tested = texts.get(node.test.lstrip("!").replace(" ", "")) if node.test else None
        for s in node.succ:
            out = st
            if tested is not None:
                null = (s in node.then) == node.test.startswith("!")   # the value is 0/NULL here
                if null:
                    out = {e for e in out if acquired[e[0]] != tested}
            if tests:
                if cfg[s].error and not node.error:
                    # the call that failed acquired nothing; one given a
                    # part of the value may have kept or freed it: an exit
                    # that does not release it then is excused
                    out = {(a, r, f, p, x or p) for a, r, f, p, x in out if not f}
                out = {(a, r, False, False, x) for a, r, _, _, x in out}
            if (n, s) in carried:
                out = {e for e in out if e[0] not in carried[(n, s)]}
            old = state_in.get(s)
            new = frozenset(out) if old is None else old | frozenset(out)
            if new != old:
                state_in[s] = new
                work.append(s)
    # per acquisition: exits that always release it, and exits that may not
    found: List[DeviantExit] = []
    for idx in sorted(acquired):
        releasing: Dict[int, Set[str]] = {}
        leaking: List[int] = []
        for n, entries in at_exit.items():
            mine = [r for a, r in entries if a == idx]
            if not mine:
                continue
            if all(mine):
                releasing[n] = set().union(*mine)
            elif not any(mine):
                leaking.append(n)
        if not releasing or not leaking:
            continue
        names = tuple(sorted(set().union(*releasing.values())))
        evidence = tuple(sorted({cfg[n].line for n in releasing}))
        for n in sorted(set(cfg[n].line for n in leaking)):
            found.append(DeviantExit(fn.calls[idx], fn.calls[idx].result, n, names, evidence))
    return found


def _passed(site: CallSite) -> Set[Tuple[str, bool]]:
    """Keys of what a call is given, and whether by address."""
    return {(a.path.key(), a.path.address_of) for a in site.args if a.path is not None}


def _holds(key: str, passed: Set[Tuple[str, bool]]) -> bool:
    """The call was given the object that holds the value
    (``virtio_gpu_cleanup_mapping(g, res)`` for ``res->addrs``), or a part
    of the value by address (``vfio_user_send_async(proxy, &msg->hdr,
    ...)``, container_of): it may have released or kept the value when it
    failed.  The value itself, given whole, is only used
    (``qemu_set_blocking(fd, ...)``)."""
    return any(key_within(key, p) or (by_address and key_within(p, key)) for p, by_address in passed)


def _handoffs(fn: Function, keys: Set[str], words: FrozenSet[str]) -> Dict[int, Set[str]]:
    """Calls that take a value over: it goes whole into a call whose result
    the function keeps outside its locals (``s->ioc =
    qio_channel_new_fd(fd, errp)``: the channel owns the fd now), or into
    one whose name says it keeps it (``g_hash_table_insert``,
    ``g_ptr_array_add``, ``*_take``, ``*_steal``: ownership.toml
    ``handoff_words``)."""
    out: Dict[int, Set[str]] = {}
    for site in fn.calls:
        given = {a.path.key() for a in site.args
                 if a.path is not None and not a.path.address_of} & keys
        if not given:
            continue
        kept = site.result is not None and site.result.root_kind != LOCAL
        named = any(w in words for w in (site.callee or "").split("_"))
        if kept or named:
            out[site.index] = given
    return out


def _carried_edges(cfg, acquiring: Dict[int, int]) -> Dict[Tuple[int, int], Set[int]]:
    """Back edges of loops that contain an acquisition, with the
    acquisitions they carry into the next iteration.  A value that
    survives a whole iteration unreleased was kept somewhere (or leaks on
    every iteration, which is not an error exit's fault): an exit at the
    top of the next iteration does not deviate."""
    # back edges by depth-first search from the entry
    back = []
    state = {0: 1}
    stack = [(0, iter(cfg[0].succ))]
    while stack:
        n, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            state[n] = 2
            stack.pop()
            continue
        if state.get(nxt) == 1:
            back.append((n, nxt))
        elif nxt not in state:
            state[nxt] = 1
            stack.append((nxt, iter(cfg[nxt].succ)))
    if not back:
        return {}
    reach: Dict[int, Set[int]] = {}

    def reaches(a: int, b: int) -> bool:
        if a not in reach:
            reach[a] = cfg_reachable(cfg, a)
        return b in reach[a]
    out: Dict[Tuple[int, int], Set[int]] = {}
    for src, head in back:
        inside = {call for call, node in acquiring.items() if reaches(head, node) and reaches(node, src)}
        if inside:
            out[(src, head)] = inside
    return out
