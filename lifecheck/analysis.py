"""One run: collect files, build the model of all of them, run the rules.

The model of every requested file is built first (in parallel, one process
per core), then the rules run over the whole program (pyflakes' deferred
style).  The result does not depend on the number of workers.
"""
from __future__ import annotations

import os
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from . import __version__
from .cache import CachedFile, UnitCache, cache_root, make_key
from .findings import Finding, Report, number_findings
from .frontend.preprocess import Preprocessor, stub_dir_for
from .frontend.tree import QemuTree
from .frontend.unit import analyse_file_with_closure
from .graph import Program
from .model import Notice, TranslationUnit
from .rules.catalog import Catalog
from .rules.engine import run_rules
from .source import function_spans


@dataclass
class FileSet:
    files: List[Path] = field(default_factory=list)
    notices: List[Notice] = field(default_factory=list)


def collect_files(tree: QemuTree, paths: Sequence[Path]) -> FileSet:
    """The .c files named by ``paths`` (files or folders), sorted, each once.
    Paths outside the tree and unreadable folders become notices."""
    out = FileSet()
    seen: Set[str] = set()

    def add(path: Path) -> None:
        real = os.path.realpath(path)
        if real in seen:
            return
        seen.add(real)
        out.files.append(path)

    for raw in paths:
        path = Path(raw).absolute()
        rel = tree.relative(path)
        try:
            Path(os.path.realpath(path)).relative_to(tree.root)
        except ValueError:
            out.notices.append(Notice(str(raw), 0, f"outside the tree root {tree.root}; skipped", kind="input"))
            continue
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path, onerror=lambda e: out.notices.append(
                    Notice(tree.relative(Path(e.filename)), 0, f"cannot read folder: {e.strerror}", kind="input"))):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.endswith(".c"):
                        add(Path(dirpath) / name)
        elif path.is_file():
            if path.suffix != ".c":
                out.notices.append(Notice(rel, 0, "not a .c file; skipped", kind="input"))
                continue
            add(path)
        else:
            out.notices.append(Notice(rel, 0, "no such file or folder", kind="input"))
    out.files.sort(key=lambda p: tree.relative(p))
    return out


# One per worker process (and one in the main process for -j 1).
_WORKER_PRE: Optional[Preprocessor] = None
_WORKER_CACHE: Optional[UnitCache] = None


def _init_worker(root: str, stub_dir: str, cache_dir: Optional[str], key: Optional[Dict[str, str]]) -> None:
    global _WORKER_PRE, _WORKER_CACHE
    tree = QemuTree.open(Path(root))
    _WORKER_PRE = Preprocessor(tree, Path(stub_dir))
    _WORKER_CACHE = UnitCache(Path(cache_dir), tree.root, key) if cache_dir and key is not None else None


def _analyse_one(path: str) -> Tuple[TranslationUnit, bool, Optional[str]]:
    """Analyse one file and keep the result in the cache; never raises.
    Returns the unit, whether an internal error (a bug in lifecheck, not
    in the input) happened, and the digest of its cache entry (None when
    not cached)."""
    assert _WORKER_PRE is not None
    try:
        unit, closure = analyse_file_with_closure(_WORKER_PRE, Path(path))
    except Exception as exc:  # a bug in lifecheck must not cost other files
        rel = _WORKER_PRE.tree.relative(Path(path))
        unit = TranslationUnit(file=rel)
        last = traceback.extract_tb(exc.__traceback__)[-1]
        unit.notices.append(Notice(rel, 0, f"internal error: {type(exc).__name__}: {exc} "
                                           f"(at {os.path.basename(last.filename)}:{last.lineno})",
                                   kind="internal"))
        return unit, True, None
    digest = None
    if _WORKER_CACHE is not None and closure:
        deps = _WORKER_CACHE.include_hashes(closure)
        if deps is not None:
            digest = _WORKER_CACHE.store(unit, deps)
    return unit, False, digest


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
           progress: Optional[ProgressFn]) -> BuiltFiles:
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

    def finish(i: int, result: Tuple[TranslationUnit, bool, Optional[str]]) -> None:
        nonlocal done
        built.units[i], bad, built.digests[i] = result
        built.internal = built.internal or bad
        done += 1
        if progress:
            progress(done, total, result[0].file)

    if todo and (jobs <= 1 or len(todo) <= 1):
        _init_worker(*args)
        for i in todo:
            finish(i, _analyse_one(paths[i]))
    elif todo:
        # the stub folder is prepared once here so workers do not race on it
        Preprocessor(tree, stub_dir)
        # biggest files first, so no worker is left with a long one at the end
        order = sorted(todo, key=lambda i: (-_size(paths[i]), i))
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_init_worker,
                                 initargs=args) as pool:
            futures = {pool.submit(_analyse_one, paths[i]): i for i in order}
            for fut in as_completed(futures):
                finish(futures[fut], fut.result())
    return built


def _mentions_lifecheck(path: Path) -> bool:
    """The source has a ``lifecheck:`` comment (a suppression)."""
    try:
        with open(path, "rb") as fh:
            return b"lifecheck:" in fh.read()
    except OSError:
        return False


def _materialise(tree: QemuTree, built: BuiltFiles, cache: Optional[UnitCache],
                 only: Optional[Set[str]] = None) -> List[TranslationUnit]:
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
            unit = hit.unit()
            if unit is None:
                if _WORKER_PRE is None or _WORKER_PRE.tree.root != tree.root:
                    _init_worker(str(tree.root), str(stub_dir_for(tree, cache_root(), __version__)),
                                 str(cache.base) if cache else None, cache.key if cache else None)
                unit, bad, built.digests[i] = _analyse_one(str(tree.root / hit.file))
                built.internal = built.internal or bad
            built.units[i] = unit
        units.append(unit)
    return units


def build_units(tree: QemuTree, files: Sequence[Path], jobs: int, cache: Optional[UnitCache] = None,
                progress: Optional[ProgressFn] = None) -> Tuple[List[TranslationUnit], bool]:
    """The units of ``files``, in their order: from ``cache`` where valid,
    else analysed (in ``jobs`` worker processes) and stored there."""
    built = _build(tree, files, jobs, cache, progress)
    units = _materialise(tree, built, cache)
    return units, built.internal


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def open_cache(tree: QemuTree, catalog: Catalog) -> UnitCache:
    """The unit cache of ``tree`` for this tool, rule set and
    preprocessing configuration."""
    pre_command = Preprocessor(tree, stub_dir_for(tree, cache_root(), __version__)).command(Path("<file>"))
    return UnitCache(cache_root(), tree.root, make_key(catalog, pre_command))


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
        progress: Optional[ProgressFn] = None) -> Tuple[Report, bool]:
    """Analyse ``paths`` in ``tree``; returns the report and whether an
    internal error happened.  ``use_cache`` reads and writes the unit
    cache (see cache.py); ``progress(done, total, file)`` is called as
    files are done."""
    result = analyse(tree, paths, catalog, jobs, select, use_cache=use_cache, progress=progress,
                     need_program=False)
    return result.report, result.internal


def analyse(tree: QemuTree, paths: Sequence[Path], catalog: Catalog, jobs: int = 1,
            select: Optional[Set[str]] = None, use_cache: bool = False,
            progress: Optional[ProgressFn] = None, need_program: bool = True) -> Analysis:
    """Like ``run``, and also hand back the program (None when
    ``need_program`` is false and the findings came from the cache)."""
    fileset = collect_files(tree, paths)
    cache = open_cache(tree, catalog) if use_cache else None
    built = _build(tree, fileset.files, jobs, cache, progress)
    rels = [tree.relative(f) for f in fileset.files]
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
        units = _materialise(tree, built, cache)
        program = Program(units, catalog.tables, catalog.api_functions())
        findings, specs = run_rules(program, catalog, tree.version, select)
        program_notices = []
        for name, files in sorted(program.duplicate_types.items()):
            # per-target variants of one device, or two devices with one name
            program_notices.append(Notice(files[1], 0, f"QOM type '{name}' is also defined in {files[0]}; "
                                          f"using that one ({len(files)} definitions)", kind="model"))
        if cache is not None and all(d is not None for d in built.digests):
            cache.store_run(rels, built.digests, question, findings, [s.slug for s in specs],
                            program_notices, Finding)
    report = Report(root=str(tree.root), version=tree.version_text, findings=number_findings(findings),
                    rules=specs, tool_version=__version__)
    # function extents for suppressions and --diff: needed where there are
    # findings or suppression comments (when the findings came from the
    # cache, only those units are decoded)
    if answer is not None:
        wanted = {f.loc.file for f in findings} | {rel for rel, path in zip(rels, fileset.files)
                                                   if _mentions_lifecheck(path)}
        units = _materialise(tree, built, cache, only=wanted)
    units = [u for u in units if u is not None]
    report.analysed_files = sorted(tree.relative(f) for f in fileset.files)
    report.spans = function_spans(tree.root, ((fn.name, fn.loc.file, fn.loc.line, fn.end_line)
                                              for unit in units for fn in unit.functions.values()))
    report.notices = list(fileset.notices)
    lost: Dict[str, int] = {}
    for _, notices, stats in built.files_notices_and_stats():
        report.notices.extend(notices)
        report.functions_found += stats.functions_found
        report.functions_recovered += stats.functions_recovered
        for reason, n in stats.lost_reasons.items():
            lost[reason] = lost.get(reason, 0) + n
    report.files = len(fileset.files)
    report.lost_reasons = lost
    for file, notices, stats in built.files_notices_and_stats():
        failed = any(n.kind in ("preprocess", "internal") for n in notices)
        if stats.functions_recovered == 0:
            if stats.functions_found or failed:
                report.empty_files.append(file)
            else:
                report.files_without_functions += 1
    report.notices.extend(program_notices)
    return Analysis(report, built.internal, program)
