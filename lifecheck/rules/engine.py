"""The rule engine: run every rule of the catalog over the program.

A rule is data (rules/<slug>.toml) naming one of the kinds registered in
lifecheck/rules/kinds/ and configuring it.  Every kind reads the shared
facts (lifecheck/facts/) of the run, computed once per device and event.
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import threading
from typing import Dict, List, Optional, Set, Tuple

from .. import activity
from ..facts import Facts
from ..findings import Finding, severity_rank
from ..graph import Program
from .catalog import Catalog
from .consequence import assess
from .kinds import KINDS
from .spec import RuleSpec


def run_rules(program: Program, catalog: Catalog, version: Optional[Tuple[int, ...]],
              select: Optional[Set[str]] = None, jobs: int = 1) -> Tuple[List[Finding], List[RuleSpec]]:
    """Run every applicable rule on every device type; findings deduplicated
    (several types sharing one hook report once, at the highest severity).

    With ``jobs`` > 1 on a big program, a forked copy of this process runs
    the rules on half of the types (``_forked``); the findings are merged
    in the order one process would have found them, so the result is the
    same."""
    ctx = Facts(program, catalog.families.values(), catalog.tables, version)
    specs = [s for s in sorted(catalog.rules.values(), key=lambda s: s.slug)
             if s.applies_to(version) and (select is None or s.slug in select)]
    names = sorted(program.types)
    found: Optional[Dict[Tuple[str, str], List[Finding]]] = None
    if jobs > 1 and len(names) >= FORK_MIN_TYPES:
        found = _forked(ctx, specs, names)
    if found is None:
        found = _findings_of(ctx, specs, names, extras=True)
    best: Dict[Tuple, Finding] = {}

    def keep(f: Finding) -> None:
        # of the types that share the code, the one where it matters most
        key = (f.rule, f.loc, f.resource)
        old = best.get(key)
        if old is None or _weight(f) > _weight(old):
            best[key] = f

    types = program.types
    for spec in specs:
        for name in names:
            for f in found.get((spec.slug, name), ()):
                keep(assess(ctx, spec, types[name], f))
        for f in found.get((spec.slug, ""), ()):
            if (f.rule, f.loc, f.resource) not in best:
                keep(assess(ctx, spec, types.get(f.device), f))
    findings = sorted(best.values(), key=lambda f: f.sort_key())
    return findings, specs


def _weight(f: Finding) -> Tuple[int, int, int]:
    return (not f.in_principle, f.rank, severity_rank(f.severity))


# Below this many types the rules take under a second: not worth a fork.
FORK_MIN_TYPES = 200


def _findings_of(ctx: Facts, specs: List[RuleSpec], names: List[str],
                 extras: bool) -> Dict[Tuple[str, str], List[Finding]]:
    """(rule, type) -> what the rule finds in that type, for the given types;
    with ``extras``, also (rule, "") -> what the rule finds outside any
    type's lifecycle (the kind's ``check_program``)."""
    out: Dict[Tuple[str, str], List[Finding]] = {}
    types = ctx.program.types
    for spec in specs:
        kind = KINDS[spec.kind]
        for name in names:
            activity.doing(f"running rule {spec.slug} on device type {name}", types[name].file)
            got = list(kind.check_device(ctx, spec, types[name]))
            if got:
                out[(spec.slug, name)] = got
        if extras and kind.check_program is not None:
            activity.doing(f"running rule {spec.slug} over the whole program")
            out[(spec.slug, "")] = list(kind.check_program(ctx, spec))
    return out


def _forked(ctx: Facts, specs: List[RuleSpec],
            names: List[str]) -> Optional[Dict[Tuple[str, str], List[Finding]]]:
    """The findings of every type, half of them (and the program-wide
    findings) found by a forked child, the other half here.  None where
    there is no fork() or other threads run (a fork copies only this one);
    a child that fails has its share redone here."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    ctx.program.compute_shared()
    mine, theirs = names[0::2], names[1::2]
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns
        status = 1
        try:
            os.close(read_end)
            gc.disable()  # nothing it makes outlives it
            data = pickle.dumps(_findings_of(ctx, specs, theirs, extras=True), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        except BaseException:  # noqa: B036 - reported by the parent redoing the work
            pass
        finally:
            os._exit(status)  # no atexit handlers, no flushing of the parent's buffers
    os.close(write_end)
    try:
        found = _findings_of(ctx, specs, mine, extras=False)
    except BaseException:
        os.close(read_end)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    chunks = []
    with os.fdopen(read_end, "rb") as pipe:
        while True:
            chunk = pipe.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    child = None
    if status == 0:
        try:
            child = pickle.loads(b"".join(chunks))
        except Exception:
            child = None
    if child is None:
        child = _findings_of(ctx, specs, theirs, extras=True)
    found.update(child)
    return found
