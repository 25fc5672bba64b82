"""One run: collect files, build the model of all of them, run the rules.

The model of every requested file is built first (in parallel, one process
per core), then the rules run over the whole program (pyflakes' deferred
style).  The result does not depend on the number of workers.
"""
from __future__ import annotations

import os
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Set, Tuple

from . import __version__
from .findings import Report
from .frontend.preprocess import Preprocessor, stub_dir_for
from .frontend.tree import QemuTree
from .frontend.unit import analyse_file
from .graph import Program
from .model import Notice, TranslationUnit
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


_WORKER_PRE: Optional[Preprocessor] = None


def _init_worker(root: str, stub_dir: str) -> None:
    global _WORKER_PRE
    _WORKER_PRE = Preprocessor(QemuTree.open(Path(root)), Path(stub_dir))


def _analyse_one(path: str) -> Tuple[TranslationUnit, bool]:
    """Analyse one file; never raises.  The flag says an internal error
    (a bug in lifecheck, not in the input) happened."""
    assert _WORKER_PRE is not None
    try:
        return analyse_file(_WORKER_PRE, Path(path)), False
    except Exception as exc:  # a bug in lifecheck must not cost other files
        rel = _WORKER_PRE.tree.relative(Path(path))
        unit = TranslationUnit(file=rel)
        last = traceback.extract_tb(exc.__traceback__)[-1]
        unit.notices.append(Notice(rel, 0, f"internal error: {type(exc).__name__}: {exc} "
                                           f"(at {os.path.basename(last.filename)}:{last.lineno})",
                                   kind="internal"))
        return unit, True


def build_units(tree: QemuTree, files: Sequence[Path], jobs: int) -> Tuple[List[TranslationUnit], bool]:
    stub_dir = stub_dir_for(tree, cache_root(), __version__)
    args = (str(tree.root), str(stub_dir))
    paths = [str(f) for f in files]
    if jobs <= 1 or len(paths) <= 1:
        _init_worker(*args)
        results = [_analyse_one(p) for p in paths]
    else:
        # the stub folder is prepared once here so workers do not race on it
        Preprocessor(tree, stub_dir)
        with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=args) as pool:
            results = list(pool.map(_analyse_one, paths, chunksize=1))
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
        select: Optional[Set[str]] = None) -> Tuple[Report, bool]:
    """Analyse ``paths`` in ``tree``; returns the report and whether an
    internal error happened."""
    result = analyse(tree, paths, catalog, jobs, select)
    return result.report, result.internal


def analyse(tree: QemuTree, paths: Sequence[Path], catalog: Catalog, jobs: int = 1,
            select: Optional[Set[str]] = None) -> Analysis:
    """Like ``run``, and also hand back the program."""
    fileset = collect_files(tree, paths)
    units, internal = build_units(tree, fileset.files, jobs)
    program = Program(units, catalog.tables, catalog.api_functions())
    findings, specs = run_rules(program, catalog, tree.version, select)
    report = Report(root=str(tree.root), version=tree.version_text, findings=findings,
                    rules=specs, tool_version=__version__)
    report.notices = list(fileset.notices)
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
