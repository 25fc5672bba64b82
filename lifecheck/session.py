"""One command's run: find the tree, read its settings and rules, analyse
the requested files and put the findings through the pipeline.

``lifecheck check``, ``baseline`` and ``graph`` all start here, so they
read the same ``lifecheck.toml``, run the same rules and show the same
findings; ``lifecheck api mine`` reads the same tree and rules and mines
acquire/release pairs from the linked program instead.  The command line (cli.py) turns its arguments into a
``Request`` and renders what ``Session.run`` returns; nothing here prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from . import activity
from .analysis import Analysis, ProgressFn, analyse
from .baseline import BaselineError
from .config import Config, ConfigError, find_config, load_config
from .diff import DiffError
from .facts import mining
from .facts.mining import MinedPair, PairingDataError, ProposedFamily
from .frontend.tree import QemuTree, TreeError, find_root
from .limits import Limits
from .pipeline import FindingsRequest, Pipeline, UsageError
from .rules.catalog import Catalog, RuleDataError, default_rules_dir, load_catalog

# Errors whose message is for the user (it names the file, the option or
# the key to change): exit status 2 with the message, never a traceback.
USER_ERRORS = (TreeError, RuleDataError, ConfigError, BaselineError, DiffError, UsageError, PairingDataError)


@dataclass(frozen=True)
class Request:
    """What the command line asks for, typed; every field has the
    command line's default."""

    paths: Tuple[Path, ...] = (Path("."),)   # files or folders; relative to the current folder
    root: Optional[Path] = None              # --root; None: found above the first path
    jobs: int = 1
    limits: Limits = field(default_factory=lambda: Limits(isolate=True))
    config: Optional[Path] = None            # --config; None: lifecheck.toml at the tree root
    rules_dirs: Tuple[Path, ...] = ()        # --rules-dir, after the bundled and the config's
    findings: FindingsRequest = field(default_factory=FindingsRequest)
    use_cache: bool = True
    clear_cache: bool = False


class Session:
    """The tree, its configuration, the rule catalog and the findings
    pipeline of one command, ready to run."""

    def __init__(self, request: Request, tree: QemuTree, paths: Tuple[Path, ...], config: Config,
                 catalog: Catalog, pipeline: Pipeline):
        self.request, self.tree, self.paths = request, tree, paths
        self.config, self.catalog, self.pipeline = config, catalog, pipeline

    @classmethod
    def open(cls, request: Request, use_baseline: bool = True) -> "Session":
        """Find the tree, read the configuration and the rules, build the
        pipeline (``use_baseline``: see ``Pipeline.build``).  Raises one of
        ``USER_ERRORS``, before anything is analysed."""
        tree, paths = _open_tree(request)
        config_path = request.config or find_config(tree.root)
        config = load_config(config_path) if config_path else Config()
        catalog = load_catalog([default_rules_dir()] + config.rules_dirs + list(request.rules_dirs))
        pipeline = Pipeline.build(request.findings, config, catalog.rules, tree.root, use_baseline)
        return cls(request, tree, paths, config, catalog, pipeline)

    def run(self, progress: Optional[ProgressFn] = None, need_program: bool = False) -> Analysis:
        """Analyse the requested files with the selected rules and return
        the analysis with its report put through the pipeline.
        ``progress(done, total, file)`` is called as files are done;
        ``need_program``: also keep the linked program (for pictures)."""
        request = self.request
        if request.clear_cache:
            from .cache import cache_root, clear
            activity.doing("emptying the cache")
            clear(cache_root())
        result = analyse(self.tree, list(self.paths), self.catalog, jobs=request.jobs,
                         select=self.pipeline.selected, use_cache=request.use_cache, progress=progress,
                         need_program=need_program, limits=request.limits,
                         spans_of_findings=self.pipeline.needs_spans_of_findings)
        return Analysis(self.pipeline.apply(result.report), result.internal, result.program)

    def mine(self, min_support: int = mining.MIN_SUPPORT, min_confidence: float = mining.MIN_CONFIDENCE,
             min_sites: int = mining.MIN_SITES, progress: Optional[ProgressFn] = None) -> "Mined":
        """``lifecheck api mine``: analyse the requested files (no rules
        run) and learn acquire/release pairs from the linked program; the
        families proposed for rules/api are the new pairs with at least
        ``min_support`` device types, ``min_confidence`` and ``min_sites``
        acquisition sites."""
        return _mine(self, min_support, min_confidence, min_sites, progress)


@dataclass
class Mined:
    """What ``Session.mine`` found: every candidate pair, ranked; the
    families ``--format toml`` writes; the header that declares each of
    their acquire functions; and the analysis they came from (its notices,
    whether an internal error happened)."""

    pairs: List[MinedPair]
    proposed: List[ProposedFamily]
    headers: Dict[str, str]
    analysis: Analysis
    types: int                      # QOM types the evidence was drawn from (not abstract)
    min_support: int
    min_confidence: float
    min_sites: int


def _mine(session: "Session", min_support: int = mining.MIN_SUPPORT,
          min_confidence: float = mining.MIN_CONFIDENCE, min_sites: int = mining.MIN_SITES,
          progress: Optional[ProgressFn] = None) -> Mined:
    """Analyse the requested files (no rules run) and mine acquire/release
    pairs from the linked program (lifecheck/facts/mining.py)."""
    request = session.request
    if min_support < 1 or min_sites < 1 or not 0.0 <= min_confidence <= 1.0:
        raise UsageError("--min-support and --min-sites must be at least 1, --min-confidence between 0 and 1")
    if request.clear_cache:
        from .cache import cache_root, clear
        activity.doing("emptying the cache")
        clear(cache_root())
    result = analyse(session.tree, list(session.paths), session.catalog, jobs=request.jobs, select=set(),
                     use_cache=request.use_cache, progress=progress, need_program=True, limits=request.limits)
    program = result.program
    assert program is not None
    activity.doing("mining acquire/release pairs")
    pairs = mining.mine(program, session.catalog.families.values(), session.catalog.tables, session.tree.version)
    proposed = mining.propose(pairs, session.catalog.families, min_support, min_confidence, min_sites)
    activity.doing("looking for the headers that declare the mined acquire functions")
    headers = session.tree.declaring_headers(f.acquire for f in proposed)
    for fam in proposed:
        if fam.acquire not in headers and program.by_name.get(fam.acquire):
            headers[fam.acquire] = program.by_name[fam.acquire][0][0]   # no header: the defining file
    types = sum(1 for dev in program.types.values() if not dev.record.abstract)
    return Mined(pairs, proposed, headers, result, types, min_support, min_confidence, min_sites)


def _open_tree(request: Request) -> Tuple[QemuTree, Tuple[Path, ...]]:
    """The tree (``--root``, else found above the first PATH) and the PATHs;
    relative PATHs are taken from the current folder, as usual."""
    paths = request.paths
    if request.root is not None:
        tree = QemuTree.open(request.root)
        return tree, tuple(p if p.is_absolute() else Path.cwd() / p for p in paths)
    found = find_root(paths[0])
    if found is None:
        raise UsageError(f"{paths[0]}: not inside a QEMU tree (no folder above it holds VERSION "
                         "and include/qemu/); pass --root")
    return QemuTree.open(found), paths
