"""One run: collect files, build the model of all of them, run the rules.

The model of every requested file is built first (in parallel, one process
per core), then the rules run over the whole program (pyflakes' deferred
style).  The result does not depend on the number of workers.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import stat
import tempfile
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

from . import __version__
from .findings import Report
from .frontend.preprocess import Preprocessor, stub_dir_for
from .frontend.tree import QemuTree
from .frontend.unit import analyse_file
from .graph import Program
from .frontend.parse import discard_parser
from . import limits as _limits
from .limits import FileTimeout, Limits, deadline, limit_worker_memory, megabytes
from .model import Notice, ParseStats, TranslationUnit
from .rules.catalog import Catalog
from .rules.engine import run_rules


def cache_root() -> Path:
    env = os.environ.get("LIFECHECK_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lifecheck"


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


_WORKER_PRE: Optional[Preprocessor] = None
_WORKER_LIMITS = Limits()
_WORKER_MARK: Optional[str] = None  # in a worker process: the file naming its current input


def _init_worker(root: str, stub_dir: str, limits: Limits = Limits(), marks: Optional[str] = None) -> None:
    global _WORKER_PRE, _WORKER_LIMITS, _WORKER_MARK
    _WORKER_LIMITS = limits
    _WORKER_PRE = Preprocessor(QemuTree.open(Path(root)), Path(stub_dir), max_output=limits.max_preprocessed)
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


def _analyse_one(path: str) -> Tuple[TranslationUnit, bool]:
    """Analyse one file within the per-file limits; never raises.  The flag
    says an internal error (a bug in lifecheck, not in the input) happened."""
    assert _WORKER_PRE is not None
    limits = _WORKER_LIMITS
    rel = _WORKER_PRE.tree.relative(Path(path))
    if _WORKER_MARK is not None:
        with open(_WORKER_MARK, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(path)
        _limits.arm_cpu_backstop(limits)
    try:
        with deadline(limits.file_timeout):
            return analyse_file(_WORKER_PRE, Path(path)), False
    except FileTimeout:
        discard_parser()
        return _unit_with_notice(rel, f"analysis did not finish within {limits.file_timeout:g} s "
                                       "(--file-timeout); not analysed", "limit"), False
    except MemoryError:
        discard_parser()
        return _unit_with_notice(rel, "ran out of memory"
                                 + (f" (limit {megabytes(limits.worker_memory)} per worker, --max-memory)"
                                    if limits.worker_memory and _WORKER_MARK else "")
                                 + "; not analysed", "limit"), False
    except Exception as exc:  # a bug in lifecheck must not cost other files
        return _internal_error(rel, exc), True
    finally:
        if _WORKER_MARK is not None:
            open(_WORKER_MARK, "w").close()


def _analyse_alone_main(conn, path: str, args: tuple) -> None:
    _init_worker(*args)
    conn.send(_analyse_one(path))
    conn.close()


def _analyse_alone(path: str, rel: str, args: tuple, limits: Limits) -> Tuple[TranslationUnit, bool]:
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
                                      f"(exit status {code})", "internal"), True
    return _unit_with_notice(rel, why + "; not analysed", "limit"), False


def _analyse_in_workers(tree: QemuTree, paths: List[str], jobs: int, args: tuple,
                        limits: Limits) -> Dict[str, Tuple[TranslationUnit, bool]]:
    """Analyse ``paths`` in a pool of worker processes.  A worker that dies
    (killed by a limit, or crashed) costs only the file it was analysing:
    the pool is started again for the files that were not finished, and the
    files the dead workers held are analysed alone to find out which."""
    results: Dict[str, Tuple[TranslationUnit, bool]] = {}
    pending = list(paths)
    with tempfile.TemporaryDirectory(prefix="lifecheck-") as marks:
        while pending:
            lost: List[str] = []
            with ProcessPoolExecutor(max_workers=min(jobs, len(pending)), initializer=_init_worker,
                                     initargs=args + (limits, marks)) as pool:
                futures = [(p, pool.submit(_analyse_one, p)) for p in pending]
                for p, future in futures:
                    try:
                        results[p] = future.result()
                    except BrokenProcessPool:
                        lost.append(p)
                    except Exception as exc:  # e.g. the result could not be sent back
                        results[p] = _internal_error(tree.relative(Path(p)), exc), True
            held = set()
            for name in os.listdir(marks):
                with open(os.path.join(marks, name), encoding="utf-8", errors="surrogateescape") as fh:
                    held.add(fh.read())
                os.unlink(os.path.join(marks, name))
            suspects = [p for p in lost if p in held] or lost
            for p in suspects:
                results[p] = _analyse_alone(p, tree.relative(Path(p)), args + (limits, marks), limits)
            pending = [p for p in lost if p not in results]
    return results


def build_units(tree: QemuTree, files: Sequence[Path], jobs: int,
                limits: Optional[Limits] = None) -> Tuple[List[TranslationUnit], bool]:
    limits = limits or Limits()
    stub_dir = stub_dir_for(tree, cache_root(), __version__)
    args = (str(tree.root), str(stub_dir))
    paths = [str(f) for f in files]
    if not paths:
        return [], False
    if (jobs <= 1 or len(paths) <= 1) and not limits.isolate:
        _init_worker(*args, limits)
        results = [_analyse_one(p) for p in paths]
    else:
        # the stub folder is prepared once here so workers do not race on it
        Preprocessor(tree, stub_dir)
        done = _analyse_in_workers(tree, paths, max(1, jobs), args, limits)
        results = [done[p] for p in paths]
    return [u for u, _ in results], any(bad for _, bad in results)


@dataclass
class Analysis:
    """Everything one run produced: the report, whether an internal error
    happened, and the linked program the rules ran over (for views such as
    ``lifecheck graph``)."""

    report: Report
    internal: bool
    program: Program


def run(tree: QemuTree, paths: Sequence[Path], catalog: Catalog, jobs: int = 1,
        select: Optional[Set[str]] = None, limits: Optional[Limits] = None) -> Tuple[Report, bool]:
    """Analyse ``paths`` in ``tree``; returns the report and whether an
    internal error happened."""
    result = analyse(tree, paths, catalog, jobs, select, limits)
    return result.report, result.internal


def analyse(tree: QemuTree, paths: Sequence[Path], catalog: Catalog, jobs: int = 1,
            select: Optional[Set[str]] = None, limits: Optional[Limits] = None) -> Analysis:
    """Like ``run``, and also hand back the program."""
    fileset = collect_files(tree, paths, limits)
    units, internal = build_units(tree, fileset.files, jobs, limits)
    program = Program(units, catalog.tables, catalog.api_functions())
    findings, specs = run_rules(program, catalog, tree.version, select)
    report = Report(root=str(tree.root), version=tree.version_text, findings=findings,
                    rules=specs, tool_version=__version__)
    report.notices = list(fileset.notices)
    if tree.version is None:
        report.notices.append(Notice("VERSION", 1, "names no QEMU version; every rule is run, "
                                     "whatever versions it applies to", kind="input"))
    lost = {}
    for unit in units:
        report.notices.extend(unit.notices)
        report.functions_found += unit.stats.functions_found
        report.functions_recovered += unit.stats.functions_recovered
        for reason, n in unit.stats.lost_reasons.items():
            lost[reason] = lost.get(reason, 0) + n
    report.files = len(units)
    report.lost_reasons = lost
    for unit in units:
        failed = any(n.kind in ("preprocess", "internal") for n in unit.notices)
        if unit.stats.functions_recovered == 0:
            if unit.stats.functions_found or failed:
                report.empty_files.append(unit.file)
            else:
                report.files_without_functions += 1
    for name, files in sorted(program.duplicate_types.items()):
        # per-target variants of one device, or two devices with one name
        report.notices.append(Notice(files[1], 0, f"QOM type '{name}' is also defined in {files[0]}; "
                                     f"using that one ({len(files)} definitions)", kind="model"))
    return Analysis(report, internal, program)
