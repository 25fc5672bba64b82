"""One run: collect files, build the model of all of them, run the rules.

The model of every requested file is built first (in parallel, one process
per core), then the rules run over the whole program (pyflakes' deferred
style).  The result does not depend on the number of workers.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import stat
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from . import __version__, activity
from .cache import CachedFile, UnitCache, cache_root, make_key, run_key
from .context import context_files
from .findings import DUPLICATE_TYPE, LOST_HOOK_FUNCTION, Finding, Report, number_findings
from .frontend.preprocess import Preprocessor, stub_dir_for
from .frontend.tree import QemuTree
from .frontend.unit import analyse_file_with_closure
from .graph import LostReach, Program
from .frontend.parse import discard_parser
from . import limits as _limits
from .limits import FileTimeout, Limits, deadline, limit_worker_memory, megabytes
from .model import Notice, ParseStats, TranslationUnit
from .rules.catalog import Catalog
from .rules.engine import run_rules
from .source import function_spans


@dataclass
class FileSet:
    files: List[Path] = field(default_factory=list)
    notices: List[Notice] = field(default_factory=list)


def collect_files(tree: QemuTree, paths: Sequence[Path], limits: Optional[Limits] = None) -> FileSet:
    """The .c files named by ``paths`` (files or folders), sorted, each once.
    Paths outside the tree, links that lead outside it or nowhere, what is
    not a regular file, files too large and unreadable files or folders
    become notices (one each, naming the path and the reason)."""
    limits = limits or Limits()
    out = FileSet()
    seen: Set[str] = set()
    root = str(tree.root)

    def shown(path) -> str:
        # a name that is not UTF-8 is shown escaped, never crashes a reporter
        text = os.fsdecode(path)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = os.fsencode(text).decode("utf-8", errors="backslashreplace")
        absolute = os.path.abspath(text)
        return absolute[len(root) + 1:] if absolute.startswith(root + os.sep) else text

    def skip(path, reason: str) -> None:
        out.notices.append(Notice(shown(path), 0, reason, kind="input"))

    def inside(real: str) -> bool:
        return real == root or real.startswith(root + os.sep)

    def add(path: Path) -> None:
        name = os.fsdecode(path)
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            skip(path, "file name is not valid UTF-8; skipped")
            return
        real = os.path.realpath(path)
        if real in seen:
            return
        if not inside(real):
            skip(path, "a link to a file outside the tree root; skipped")
            return
        try:
            st = os.stat(path)
        except OSError as exc:
            skip(path, f"cannot read: {exc.strerror}; skipped")
            return
        if not stat.S_ISREG(st.st_mode):
            skip(path, "not a regular file; skipped")
            return
        if limits.max_file_size and st.st_size > limits.max_file_size:
            skip(path, f"{megabytes(st.st_size)} is larger than the limit of "
                       f"{megabytes(limits.max_file_size)} (--max-file-size); skipped")
            return
        try:
            with open(path, "rb") as fh:
                head = fh.read(8192)
        except OSError as exc:
            skip(path, f"cannot read: {exc.strerror}; skipped")
            return
        if b"\0" in head:  # the test git and grep use
            skip(path, "a binary file (it holds NUL bytes); skipped")
            return
        seen.add(real)
        out.files.append(path)

    for raw in paths:
        path = Path(os.path.abspath(raw))
        if not inside(os.path.realpath(path)):
            out.notices.append(Notice(shown(raw), 0, f"outside the tree root {tree.root}; skipped",
                                      kind="input"))
            continue
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path, onerror=lambda e: skip(
                    e.filename, f"cannot read folder: {e.strerror}; skipped")):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.endswith(".c"):
                        add(Path(dirpath) / name)
        elif os.path.lexists(path) and path.suffix == ".c":
            add(path)
        elif path.exists() or os.path.lexists(path):
            skip(path, "not a .c file; skipped")
        else:
            skip(path, "no such file or folder")
    out.files.sort(key=lambda p: tree.relative(p))
    return out


# One per worker process (and one in the main process for -j 1).
_WORKER_PRE: Optional[Preprocessor] = None
_WORKER_CACHE: Optional[UnitCache] = None
_WORKER_LIMITS = Limits()
_WORKER_MARK: Optional[str] = None  # in a worker process: the file naming its current input

# What ``_analyse_one`` returns: the unit, whether an internal error (a bug
# in lifecheck, not in the input) happened, and the digest of its cache
# entry (None when not cached).
Result = Tuple[TranslationUnit, bool, Optional[str]]


def _init_worker(root: str, stub_dir: str, cache_dir: Optional[str], key: Optional[Dict[str, str]],
                 limits: Limits = Limits(), marks: Optional[str] = None) -> None:
    global _WORKER_PRE, _WORKER_CACHE, _WORKER_LIMITS, _WORKER_MARK
    _WORKER_LIMITS = limits
    tree = QemuTree.open(Path(root))
    _WORKER_PRE = Preprocessor(tree, Path(stub_dir), max_output=limits.max_preprocessed)
    _WORKER_CACHE = UnitCache(Path(cache_dir), tree.root, key) if cache_dir and key is not None else None
    if marks is not None:  # a worker process of our own: its limits bind only itself
        limit_worker_memory(limits)
        _WORKER_MARK = os.path.join(marks, str(os.getpid()))


def _unit_with_notice(rel: str, message: str, kind: str) -> TranslationUnit:
    unit = TranslationUnit(file=rel)
    unit.notices.append(Notice(rel, 0, message, kind=kind))
    unit.stats = ParseStats(lost_reasons={f"{kind}: file not analysed": 1})
    return unit


def _internal_error(rel: str, exc: BaseException) -> TranslationUnit:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno})" if tb else ""
    return _unit_with_notice(rel, f"internal error: {type(exc).__name__}: {exc}{where}", "internal")


def _analyse_one(path: str) -> Result:
    """Analyse one file within the per-file limits and keep the result in
    the cache; never raises.  Only a complete analysis is cached: a file
    stopped by a limit or an internal error is analysed again next time.

    The cyclic garbage collector is paused while the file is analysed: the
    parser allocates hundreds of thousands of objects that live until the
    file is done, and automatic collections kept rescanning them and the
    per-process caches (a fifth of a worker's time).  What the file left in
    cycles (a few hundred objects: parse errors' tracebacks) is collected
    once at the end, from the youngest generation only."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _analyse_one_now(path)
    finally:
        gc.collect(0)
        if enabled:
            gc.enable()


def _analyse_one_now(path: str) -> Result:
    assert _WORKER_PRE is not None
    limits = _WORKER_LIMITS
    rel = _WORKER_PRE.tree.relative(Path(path))
    if _WORKER_MARK is not None:
        with open(_WORKER_MARK, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(path)
        _limits.arm_cpu_backstop(limits)
    try:
        with deadline(limits.file_timeout):
            unit, closure = analyse_file_with_closure(_WORKER_PRE, Path(path))
    except FileTimeout:
        discard_parser()
        return _unit_with_notice(rel, f"analysis did not finish within {limits.file_timeout:g} s "
                                       "(--file-timeout); not analysed", "limit"), False, None
    except MemoryError:
        discard_parser()
        return _unit_with_notice(rel, "ran out of memory"
                                 + (f" (limit {megabytes(limits.worker_memory)} per worker, --max-memory)"
                                    if limits.worker_memory and _WORKER_MARK else "")
                                 + "; not analysed", "limit"), False, None
    except Exception as exc:  # a bug in lifecheck must not cost other files
        return _internal_error(rel, exc), True, None
    else:
        digest = None
        if _WORKER_CACHE is not None and closure:
            deps = _WORKER_CACHE.include_hashes(closure)
            if deps is not None:
                digest = _WORKER_CACHE.store(unit, deps)
        return unit, False, digest
    finally:
        if _WORKER_MARK is not None:
            open(_WORKER_MARK, "w").close()


def _analyse_alone_main(conn, path: str, args: tuple) -> None:
    _init_worker(*args)
    conn.send(_analyse_one(path))
    conn.close()


def _analyse_alone(path: str, rel: str, args: tuple, limits: Limits) -> Result:
    """Analyse one file in a process of its own, to learn whether it is the
    one that killed a worker, and why."""
    ctx = multiprocessing.get_context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_analyse_alone_main, args=(send, path, args), daemon=True)
    proc.start()
    send.close()
    result = None
    wall = 3 * limits.file_timeout + 30 if limits.file_timeout else None
    try:
        if receive.poll(wall):
            result = receive.recv()
    except (EOFError, OSError):
        pass  # the process died before it answered
    proc.join(5)
    hung = proc.is_alive()
    if hung:
        proc.kill()
        proc.join()
    receive.close()
    if result is not None:
        return result
    code = proc.exitcode
    if hung:
        why = f"did not finish within {wall:g} s (--file-timeout)"
    elif code == -signal.SIGXCPU:
        why = (f"used more than {_limits.cpu_budget(limits):g} s of CPU time "
               f"(the backstop of --file-timeout {limits.file_timeout:g} s)")
    elif code == -signal.SIGKILL:
        why = "its worker was killed (SIGKILL), most likely by the system for using too much memory"
    else:
        return _unit_with_notice(rel, "internal error: the worker analysing this file died "
                                      f"(exit status {code})", "internal"), True, None
    return _unit_with_notice(rel, why + "; not analysed", "limit"), False, None


def _analyse_in_workers(tree: QemuTree, paths: List[str], jobs: int, args: tuple, limits: Limits,
                        finish: Callable[[str, Result], None]) -> None:
    """Analyse ``paths`` (in this order) in a pool of worker processes,
    calling ``finish`` with each result as it arrives.  A worker that dies
    (killed by a limit, or crashed) costs only the file it was analysing:
    the pool is started again for the files that were not finished, and the
    files the dead workers held are analysed alone to find out which."""
    pending = list(paths)
    with tempfile.TemporaryDirectory(prefix="lifecheck-") as marks:
        while pending:
            lost: Set[str] = set()
            with ProcessPoolExecutor(max_workers=min(jobs, len(pending)), initializer=_init_worker,
                                     initargs=args + (limits, marks)) as pool:
                futures = {pool.submit(_analyse_one, p): p for p in pending}
                for future in as_completed(futures):
                    p = futures[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        lost.add(p)
                        continue
                    except Exception as exc:  # e.g. the result could not be sent back
                        result = _internal_error(tree.relative(Path(p)), exc), True, None
                    finish(p, result)
            held = set()
            for name in os.listdir(marks):
                with open(os.path.join(marks, name), encoding="utf-8", errors="surrogateescape") as fh:
                    held.add(fh.read())
                os.unlink(os.path.join(marks, name))
            lost_in_order = [p for p in pending if p in lost]
            suspects = [p for p in lost_in_order if p in held] or lost_in_order
            for p in suspects:
                finish(p, _analyse_alone(p, tree.relative(Path(p)), args + (limits, marks), limits))
            alone = set(suspects)
            pending = [p for p in lost_in_order if p not in alone]


ProgressFn = Callable[[int, int, str], None]


@dataclass
class BuiltFiles:
    """The result of the frontend over the requested files, in their order.
    A file is either analysed (``units[i]``) or a valid cache entry
    (``cached[i]``) whose unit is decoded only if the rules must run."""

    units: List[Optional[TranslationUnit]]
    cached: List[Optional[CachedFile]]
    digests: List[Optional[str]]
    internal: bool = False

    def files_notices_and_stats(self):
        for unit, hit in zip(self.units, self.cached):
            if unit is not None:
                yield unit.file, unit.notices, unit.stats
            elif hit is not None:
                yield hit.file, hit.notices, hit.stats


def _build(tree: QemuTree, files: Sequence[Path], jobs: int, cache: Optional[UnitCache],
           progress: Optional[ProgressFn], limits: Optional[Limits] = None) -> BuiltFiles:
    limits = limits or Limits()
    stub_dir = stub_dir_for(tree, cache_root(), __version__)
    paths = [str(f) for f in files]
    total = len(paths)
    built = BuiltFiles([None] * total, [None] * total, [None] * total)
    done = 0
    todo: List[int] = []
    for i, path in enumerate(paths):
        hit = cache.lookup(tree.relative(Path(path))) if cache is not None else None
        if hit is None:
            todo.append(i)
            continue
        built.cached[i] = hit
        built.digests[i] = hit.digest
        done += 1
        if progress:
            progress(done, total, hit.file)
    args = (str(tree.root), str(stub_dir), str(cache.base) if cache else None,
            cache.key if cache else None)

    def finish(i: int, result: Result) -> None:
        nonlocal done
        built.units[i], bad, built.digests[i] = result
        built.internal = built.internal or bad
        done += 1
        if progress:
            progress(done, total, result[0].file)

    if todo and (jobs <= 1 or len(todo) <= 1) and not limits.isolate:
        _init_worker(*args, limits)
        for i in todo:
            finish(i, _analyse_one(paths[i]))
    elif todo:
        # the stub folder is prepared once here so workers do not race on it
        Preprocessor(tree, stub_dir)
        # biggest files first, so no worker is left with a long one at the end
        order = sorted(todo, key=lambda i: (-_size(paths[i]), i))
        index = {paths[i]: i for i in todo}
        _analyse_in_workers(tree, [paths[i] for i in order], max(1, jobs), args, limits,
                            lambda p, result: finish(index[p], result))
    return built


def _mentions_lifecheck(path: Path) -> bool:
    """The source has a ``lifecheck:`` comment (a suppression)."""
    try:
        with open(path, "rb") as fh:
            return b"lifecheck:" in fh.read()
    except OSError:
        return False


def _materialise(tree: QemuTree, built: BuiltFiles, cache: Optional[UnitCache],
                 limits: Optional[Limits] = None, only: Optional[Set[str]] = None) -> List[TranslationUnit]:
    """Every unit (or those of the files in ``only``), decoding cached ones;
    an entry whose unit cannot be decoded is analysed again (in this
    process)."""
    units: List[TranslationUnit] = []
    for i, unit in enumerate(built.units):
        if unit is None and only is not None:
            hit = built.cached[i]
            if hit is not None and hit.file not in only:
                continue
        if unit is None:
            hit = built.cached[i]
            assert hit is not None
            activity.doing("decoding the cached analysis", hit.file)
            unit = hit.unit()
            if unit is None:
                if _WORKER_PRE is None or _WORKER_PRE.tree.root != tree.root:
                    _init_worker(str(tree.root), str(stub_dir_for(tree, cache_root(), __version__)),
                                 str(cache.base) if cache else None, cache.key if cache else None,
                                 limits or Limits())
                unit, bad, built.digests[i] = _analyse_one(str(tree.root / hit.file))
                built.internal = built.internal or bad
            built.units[i] = unit
        units.append(unit)
    return units


def build_units(tree: QemuTree, files: Sequence[Path], jobs: int, cache: Optional[UnitCache] = None,
                progress: Optional[ProgressFn] = None,
                limits: Optional[Limits] = None) -> Tuple[List[TranslationUnit], bool]:
    """The units of ``files``, in their order: from ``cache`` where valid,
    else analysed (in ``jobs`` worker processes, within ``limits``) and
    stored there."""
    built = _build(tree, files, jobs, cache, progress, limits)
    units = _materialise(tree, built, cache, limits)
    return units, built.internal


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def open_cache(tree: QemuTree, catalog: Catalog) -> UnitCache:
    """The cache of ``tree``: units for this frontend and preprocessing
    configuration, runs for this tool and rule set."""
    pre_command = Preprocessor(tree, stub_dir_for(tree, cache_root(), __version__)).command(Path("<file>"))
    return UnitCache(cache_root(), tree.root, make_key(pre_command), run_key(catalog))


@dataclass
class Analysis:
    """Everything one run produced: the report, whether an internal error
    happened, and the linked program the rules ran over (for views such as
    ``lifecheck graph``)."""

    report: Report
    internal: bool
    program: Optional[Program]


def run(tree: QemuTree, paths: Sequence[Path], catalog: Catalog, jobs: int = 1,
        select: Optional[Set[str]] = None, use_cache: bool = False,
        progress: Optional[ProgressFn] = None, limits: Optional[Limits] = None,
        spans_of_findings: bool = True) -> Tuple[Report, bool]:
    """Analyse ``paths`` in ``tree``; returns the report and whether an
    internal error happened.  ``use_cache`` reads and writes the unit
    cache (see cache.py); ``progress(done, total, file)`` is called as
    files are done; ``limits`` bound each file (see limits.py).
    ``spans_of_findings``: the report needs the function extents of every
    file with findings (--diff), not only of files with suppressions."""
    result = analyse(tree, paths, catalog, jobs, select, use_cache=use_cache, progress=progress,
                     need_program=False, limits=limits, spans_of_findings=spans_of_findings)
    return result.report, result.internal


def analyse(tree: QemuTree, paths: Sequence[Path], catalog: Catalog, jobs: int = 1,
            select: Optional[Set[str]] = None, use_cache: bool = False,
            progress: Optional[ProgressFn] = None, need_program: bool = True,
            limits: Optional[Limits] = None, spans_of_findings: bool = True) -> Analysis:
    """Like ``run``, and also hand back the program (None when
    ``need_program`` is false and the findings came from the cache)."""
    with gc_paused():
        return _analyse(tree, paths, catalog, jobs, select, use_cache, progress, need_program, limits,
                        spans_of_findings)


def _cpu_seconds() -> float:
    """CPU time of this process and of the processes it has waited for
    (the workers, the forked rule process, gcc)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@contextmanager
def _timed(timings: Dict[str, Tuple[float, float]], step: str):
    """Record the wall and CPU seconds of the block as ``timings[step]``."""
    wall, cpu = time.perf_counter(), _cpu_seconds()
    try:
        yield
    finally:
        timings[step] = (time.perf_counter() - wall, _cpu_seconds() - cpu)


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector for a run.  The units and the
    program are millions of objects that live until the run ends and hold
    no garbage cycles worth the work: automatic collections rescanned them
    as they grew, doubling the main process's cost of receiving units and
    slowing the rules.  At the end, what is still alive goes straight to
    the oldest generation (freeze and unfreeze, no scan); the few cycles
    the run left are collected by the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _analyse(tree: QemuTree, paths: Sequence[Path], catalog: Catalog, jobs: int,
             select: Optional[Set[str]], use_cache: bool, progress: Optional[ProgressFn],
             need_program: bool, limits: Optional[Limits], spans_of_findings: bool) -> Analysis:
    activity.doing("analysing the files")
    fileset = collect_files(tree, paths, limits)
    cache = open_cache(tree, catalog) if use_cache else None
    # the neighbours that define the helpers the files call (context.py):
    # part of the program, not of the report
    context = context_files(tree.root, fileset.files, set(catalog.opaque_functions()),
                            catalog.tables.get("framework", {}).get("core_files", [])) if fileset.files else []
    timings: Dict[str, Tuple[float, float]] = {}
    with _timed(timings, "files"):
        built = _build(tree, fileset.files + context, jobs, cache, progress, limits)
    rels = [tree.relative(f) for f in fileset.files + context]
    asked = set(rels[:len(fileset.files)])
    # what else the findings depend on, beside the units, rules and tool
    question = [tree.version_text, ",".join(sorted(select)) if select is not None else "*"]
    answer = None
    program: Optional[Program] = None
    if cache is not None and not need_program and all(u is None for u in built.units):
        answer = cache.load_run(rels, built.digests, question, Finding)
        if answer is not None and not all(slug in catalog.rules for slug in answer[1]):
            answer = None
    if answer is not None:
        findings, slugs, program_notices = answer
        specs = [catalog.rules[slug] for slug in slugs]
    else:
        with _timed(timings, "decoding"):
            units = _materialise(tree, built, cache, limits)
        activity.doing("linking the program model")
        with _timed(timings, "linking"):
            program = Program(units, catalog.tables, catalog.opaque_functions())
        with _timed(timings, "rules"):
            findings, specs = run_rules(program, catalog, tree.version, select, jobs)
        activity.doing("summing up the run")
        program_notices = []
        for name, files in sorted(program.duplicate_types.items()):
            # per-target variants of one device, or two devices with one name
            program_notices.append(Notice(files[1], 0, f"QOM type '{name}' is also defined in {files[0]}; "
                                          f"using that one ({len(files)} definitions)", kind=DUPLICATE_TYPE))
        activity.doing("finding the functions that could not be parsed and that hooks reach")
        program_notices.extend(lost_hook_notices(program.lost_reached()))
        if context:
            # what the asked files' devices do, wherever the code is, and
            # what happens in the asked files
            ours = {name for name, dev in program.types.items() if dev.file in asked}
            findings = [f for f in findings if f.loc.file in asked or f.device in ours]
            program_notices = [n for n in program_notices if n.file in asked
                               or n.kind == DUPLICATE_TYPE and any(f in n.message for f in asked)]
        if cache is not None and all(d is not None for d in built.digests):
            cache.store_run(rels, built.digests, question, findings, [s.slug for s in specs],
                            program_notices, Finding)
    report = Report(root=str(tree.root), version=tree.version_text, findings=number_findings(findings),
                    rules=specs, tool_version=__version__, timings=timings)
    # function extents for suppressions and --diff: needed where there are
    # findings or suppression comments (when the findings came from the
    # cache, only those units are decoded)
    if answer is not None:
        wanted = {f.loc.file for f in findings} if spans_of_findings else set()
        wanted |= {rel for rel, path in zip(rels, fileset.files) if _mentions_lifecheck(path)}
        units = _materialise(tree, built, cache, limits, only=wanted)
    units = [u for u in units if u is not None]
    activity.doing("summing up the run")
    report.analysed_files = sorted(tree.relative(f) for f in fileset.files)
    report.spans = function_spans(tree.root, ((fn.name, fn.loc.file, fn.loc.line, fn.end_line)
                                              for unit in units for fn in unit.functions.values()))
    report.notices = list(fileset.notices)
    if tree.version is None:
        report.notices.append(Notice("VERSION", 1, "names no QEMU version; every rule is run, "
                                     "whatever versions it applies to", kind="input"))
    lost: Dict[str, int] = {}
    for file, notices, stats in built.files_notices_and_stats():
        if file not in asked:
            continue
        report.notices.extend(notices)
        report.functions_found += stats.functions_found
        report.functions_recovered += stats.functions_recovered
        report.functions_guessed += stats.functions_guessed
        for reason, n in stats.lost_reasons.items():
            lost[reason] = lost.get(reason, 0) + n
    report.files = len(fileset.files)
    report.lost_reasons = lost
    for file, notices, stats in built.files_notices_and_stats():
        if file not in asked:
            continue
        failed = any(n.kind in ("preprocess", "internal") for n in notices)
        if stats.functions_recovered == 0:
            if stats.functions_found or failed:
                report.empty_files.append(file)
            else:
                report.files_without_functions += 1
    report.notices.extend(program_notices)
    return Analysis(report, built.internal, program)



def lost_hook_notices(reaches: Sequence[LostReach]) -> List[Notice]:
    """One notice (kind LOST_HOOK_FUNCTION) per lost function and phase,
    at the function's definition: what it acquires or releases is missing
    from every rule's view of the device.  It names one device type (a
    hot-unpluggable one first, a concrete one, then the shortest call
    chain) and how many others reach it too."""
    groups: Dict[Tuple[Tuple[str, str], str], List[LostReach]] = {}
    for r in reaches:
        groups.setdefault((r.lost, r.phase), []).append(r)
    out = []
    for (lost, phase), group in sorted(groups.items()):
        group.sort(key=lambda r: (not r.unpluggable, r.abstract, len(r.via), r.device))
        first = group[0]
        if first.via:
            hook = first.via[0] + (f", through {' -> '.join(first.via[1:])}" if len(first.via) > 1 else "")
            how = f"reaches it from its {phase} hook ({hook})"
        else:
            how = f"binds it as its {phase} hook ({first.bound_by})" if first.bound_by \
                else f"binds it as its {phase} hook"
        others = sorted({r.device for r in group} - {first.device})
        also = ""
        if others:
            shown = ", ".join(f"'{d}'" for d in others[:3]) + (", ..." if len(others) > 3 else "")
            also = f" (so do {len(others)} other device type{'s' if len(others) > 1 else ''}: {shown})"
        out.append(Notice(lost[0], first.line,
                          f"function {lost[1]}() could not be parsed; device type '{first.device}' {how}: "
                          f"what it acquires or releases is not checked{also}", kind=LOST_HOOK_FUNCTION))
    return out
