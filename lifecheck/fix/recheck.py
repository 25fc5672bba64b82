"""Checked fixes: a candidate fix is offered only when, applied to a
scratch copy of the file, the file still preprocesses and parses, the
finding is gone and no new finding appears.

This module sits at the level of ``session``/``analysis``: it runs the
frontend on the edited text and the rules on a program linked again.
The tree is never written: the edited file goes to a scratch folder and
is preprocessed as if it stood in its own folder (``-iquote`` of the
original folder, so ``#include "foo.h"`` finds its neighbours).  The
rules run over the edited file's neighbourhood (the files of the device
types it defines or that the finding names, their ancestors', and every
function their hooks reach), before and after the edit, so the two runs
compare like with like.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

import networkx as nx

from .. import activity
from ..facts import Facts
from ..findings import Finding
from ..frontend.preprocess import PreprocessError, Preprocessor
from ..frontend.tree import QemuTree
from ..frontend.unit import model_from_preprocessed
from ..graph import Program
from ..model import TranslationUnit
from ..rules.catalog import Catalog
from ..rules.engine import run_rules
from .edits import EditError, Fix, FixResult, NewHook, apply_ops
from .propose import Candidate, NoFix, Proposer


# error exits a realize-error-leak fix may release at (and device types a
# shared acquisition is released for), found one re-check at a time
MAX_EXITS = 8
STILL = "the finding is still reported"


class _ScratchTree(QemuTree):
    """The tree, except that a file of the scratch folder is named by the
    path of the file it stands for."""

    def relative(self, path: Path) -> str:
        origin = _ORIGIN.get(str(path))
        return super().relative(origin if origin is not None else path)


_ORIGIN: Dict[str, Path] = {}


class _ScratchPreprocessor(Preprocessor):
    """Preprocesses scratch copies as if they stood in the tree."""

    def __init__(self, tree: QemuTree, stub_dir: Path, scratch: Path):
        super().__init__(tree, stub_dir)
        self._allowed = self._allowed + (os.path.realpath(scratch),)

    def command(self, source: Path, arch: Optional[str] = None) -> List[str]:
        cmd = super().command(source, arch)
        origin = _ORIGIN.get(str(source))
        if origin is not None:
            cmd[-1:-1] = ["-iquote", str(origin.parent)]
            # headers a fix edits (a member added to a device state) stand
            # in the scratch tree: found before the tree's own
            for d in reversed(self.edited_header_dirs):
                cmd[1:1] = ["-I", d]
        return cmd

    edited_header_dirs: List[str] = []


def _key(f: Finding) -> Tuple[str, str, str, str]:
    return (f.rule, f.loc.file, f.function, f.resource)


class Rechecker:
    """Analyses fixed copies of files and compares the findings."""

    def __init__(self, tree: QemuTree, catalog: Catalog, program: Program, stub_dir: Path,
                 select: Optional[Set[str]] = None):
        self.tree = tree
        self.catalog = catalog
        self.program = program
        self.select = select
        self.units: Dict[str, TranslationUnit] = {u.file: u for u in program.units}
        self._scratch = Path(tempfile.mkdtemp(prefix="lifecheck-fix-"))
        scratch_tree = _ScratchTree(tree.root, tree.version_text, tree.version)
        self.pre = _ScratchPreprocessor(scratch_tree, stub_dir, self._scratch)
        self._before: Dict[FrozenSet[str], Counter] = {}
        self._reached: Optional[Dict[str, Set[str]]] = None

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)

    # -- which files a re-check needs --------------------------------------------
    def neighbourhood(self, files: Iterable[str], devices: Iterable[str]) -> FrozenSet[str]:
        program = self.program
        files = set(files)
        names = set(d for d in devices if d in program.types)
        names |= {n for n, d in program.types.items() if d.file in files or files & set(d.search_files)}
        # and every type whose hooks reach code of the edited files (a
        # shared hook like virtio_device_instance_finalize(): an edit there
        # must not make another device leak)
        names |= {n for n, reached in self._reach().items() if reached & files}
        out = set(files)
        graph = program.call_graph
        for name in names:
            for t in [name] + program.ancestors(name):
                dev = program.types.get(t)
                if dev is None:
                    continue
                out.add(dev.file)
                out.update(dev.search_files)
            dev = program.types[name]
            for refs in list(dev.hooks.values()) + list(dev.lost_hooks.values()):
                for r in refs:
                    out.add(r.function[0])
                    if r.function in graph:
                        out.update(k[0] for k in nx.descendants(graph, r.function))
        return frozenset(f for f in out if f in self.units)

    def _reach(self) -> Dict[str, Set[str]]:
        """type -> the files its hooks reach (computed once)."""
        if self._reached is None:
            program = self.program
            graph = program.call_graph
            by_fn: Dict[Tuple[str, str], Set[str]] = {}
            out: Dict[str, Set[str]] = {}
            for name, dev in program.types.items():
                files: Set[str] = set()
                for refs in dev.hooks.values():
                    for r in refs:
                        if r.function not in by_fn:
                            by_fn[r.function] = {r.function[0]} | (
                                {k[0] for k in nx.descendants(graph, r.function)} if r.function in graph else set())
                        files |= by_fn[r.function]
                out[name] = files
            self._reached = out
        return self._reached

    def _findings(self, units: Sequence[TranslationUnit]) -> List[Finding]:
        program = Program(units, self.catalog.tables, self.catalog.opaque_functions())
        found, _ = run_rules(program, self.catalog, self.tree.version, self.select, jobs=1)
        return found

    def before(self, files: FrozenSet[str]) -> Counter:
        got = self._before.get(files)
        if got is None:
            got = self._before[files] = Counter(_key(f) for f in self._findings([self.units[f] for f in sorted(files)]))
        return got

    # -- analysing an edited file ----------------------------------------------------
    def analyse_text(self, rel: str, text: str) -> Tuple[Optional[TranslationUnit], str]:
        """The unit of ``text`` standing for the tree's file ``rel``, or
        (None, why) when it does not preprocess."""
        path = self._scratch / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        _ORIGIN[str(path)] = self.tree.root / rel
        try:
            pp = self.pre.run(path)
        except PreprocessError as exc:
            return None, f"the fixed file does not preprocess: {exc}"
        finally:
            _ORIGIN.pop(str(path), None)
        return model_from_preprocessed(rel, path, pp.text, self.pre.realpath), ""

    def check(self, finding: Finding, fix: Fix, texts: Dict[str, str]) -> str:
        """"" when ``fix`` passes, else why not."""
        return self.check_more(finding, fix, texts)[0]

    def check_more(self, finding: Finding, fix: Fix, texts: Dict[str, str]) -> Tuple[str, List[int]]:
        """``check``, and when the finding is still reported with another
        error exit, that exit's line in the original text; the device
        types still reporting it are left in ``self.still_devices``."""
        self.still_devices: List[str] = []
        try:
            new_texts = apply_ops(texts, fix.ops)
        except EditError as exc:
            return str(exc), []
        new_units: Dict[str, TranslationUnit] = {}
        hooks = sum(1 for op in fix.ops if isinstance(op, NewHook))
        headers = {rel: text for rel, text in new_texts.items() if rel.endswith(".h") and rel not in self.units}
        if headers and not any(rel.endswith(".c") for rel in new_texts):
            return "a fix that edits only headers cannot be checked", []
        try:
            return self._check_edited(finding, fix, texts, new_texts, new_units, hooks, headers)
        finally:
            for rel in headers:
                self._header_path(rel).unlink(missing_ok=True)
            self.pre.edited_header_dirs = []

    def _header_path(self, rel: str) -> Path:
        """Where the edited copy of a header goes: include/... in a folder
        searched before the tree's include/ (-I), a header beside its .c
        file beside the scratch copy of that file (searched first)."""
        if Path(rel).parts[0] == "include":
            return self._scratch / "headers" / rel
        return self._scratch / rel

    def _check_edited(self, finding: Finding, fix: Fix, texts: Dict[str, str], new_texts: Dict[str, str],
                      new_units: Dict[str, TranslationUnit], hooks: int,
                      headers: Dict[str, str]) -> Tuple[str, List[int]]:
        dirs: List[str] = []
        for rel, text in headers.items():
            path = self._header_path(rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
            if Path(rel).parts[0] == "include":
                dirs.append(str(self._scratch / "headers" / "include"))
        self.pre.edited_header_dirs = sorted(set(dirs))
        for rel, text in new_texts.items():
            if rel in headers:
                continue
            old = self.units.get(rel)
            if old is None:
                return f"{rel} is not among the analysed files", []
            activity.doing("re-checking a fix", rel)
            unit, why = self.analyse_text(rel, text)
            if unit is None:
                return why, []
            if len(unit.functions) < len(old.functions) + (hooks if rel in {op.file for op in fix.ops if isinstance(op, NewHook)} else 0) \
                    or len(unit.lost_functions) > len(old.lost_functions):
                return "the fixed file no longer parses as before", []
            new_units[rel] = unit
        files = self.neighbourhood(new_texts, [finding.device] if finding.device else [])
        before = self.before(files)
        after_list = self._findings([new_units.get(f) or self.units[f] for f in sorted(files)])
        after = Counter(_key(f) for f in after_list)
        target = _key(finding)
        if after[target] >= max(1, before[target]):
            exits = []
            for f in after_list:
                if _key(f) == target:
                    if f.device and f.device not in self.still_devices:
                        self.still_devices.append(f.device)
                    for r in f.related:
                        if r.role == "error-exit" and r.loc.file in new_texts:
                            old_line = _old_line(texts[r.loc.file], fix, r.loc.file, r.loc.line)
                            if old_line:
                                exits.append(old_line)
            return STILL, exits
        new = after - before
        if new:
            k = sorted(new)[0]
            return f"a new finding appears: {k[0]} on {k[3]} in {k[2]}()", []
        return "", []


def _old_line(text: str, fix: Fix, file: str, line: int) -> int:
    """The line of the original text that is line ``line`` once ``fix``
    is applied (0 for a line the fix added)."""
    from .edits import Delete, Insert, _expand
    n = len(text.splitlines())
    added: Dict[int, int] = {}
    deleted: Set[int] = set()
    for op in _expand(fix.ops):
        if op.file != file:
            continue
        if isinstance(op, Insert):
            added[op.line] = added.get(op.line, 0) + op.text.count("\n")
        elif isinstance(op, Delete):
            deleted.update(range(op.start, op.end + 1))
    new = 0
    for i in range(1, n + 1):
        new += added.get(i, 0)
        if new >= line:
            return 0
        if i not in deleted:
            new += 1
            if new == line:
                return i
    return 0


def checked_fixes(tree: QemuTree, catalog: Catalog, program: Program, stub_dir: Path,
                  findings: Sequence[Finding], select: Optional[Set[str]] = None,
                  progress: Optional[Callable[[int, int, str], None]] = None) -> Dict[str, FixResult]:
    """fingerprint -> what ``lifecheck fix`` offers for each finding: the
    first candidate that passes the re-check, or why there is none."""
    facts = Facts(program, catalog.families.values(), catalog.tables, tree.version)
    texts: Dict[str, str] = {}

    def text_of(rel: str) -> Optional[str]:
        if rel not in texts:
            try:
                texts[rel] = (tree.root / rel).read_text(encoding="utf-8", errors="surrogateescape")
            except OSError:
                return None
        return texts[rel]

    line_cache: Dict[str, Optional[List[str]]] = {}

    def lines_of(rel: str) -> Optional[List[str]]:
        if rel not in line_cache:
            t = text_of(rel)
            line_cache[rel] = t.splitlines() if t is not None else None
        return line_cache[rel]

    headers = sorted(str(h.relative_to(tree.root)) for h in (tree.root / "include").rglob("*.h")) \
        if (tree.root / "include").is_dir() else []
    proposer = Proposer(program, facts, lines_of, headers, catalog.rules)
    rechecker = Rechecker(tree, catalog, program, stub_dir, select)
    out: Dict[str, FixResult] = {}
    try:
        for i, f in enumerate(findings):
            if progress:
                progress(i, len(findings), f.loc.file)
            activity.doing(f"proposing a fix for {f.rule} on {f.resource}", f.loc.file)
            try:
                cands: List[Candidate] = proposer.candidates(f)
            except NoFix as exc:
                out[f.fingerprint] = FixResult(none=str(exc))
                continue
            except Exception as exc:  # a bug in lifecheck costs this finding's fix, never the run
                out[f.fingerprint] = FixResult(none=f"internal error: {type(exc).__name__}: {exc}")
                continue
            failed = []
            for c in cands:
                for rel in c.fix.files:
                    text_of(rel)
                try:
                    why, exits = rechecker.check_more(f, c.fix, texts)
                except Exception as exc:  # as above
                    why, exits = f"internal error: {type(exc).__name__}: {exc}", []
                extra: List[int] = []
                devices: List[str] = []
                while why == STILL and f.shape == "missing-release" and len(devices) < MAX_EXITS \
                        and rechecker.still_devices and not set(rechecker.still_devices) <= set(devices):
                    # a helper shared by several device types: release in each one's hook
                    devices = sorted(set(devices) | set(rechecker.still_devices))
                    try:
                        c = proposer._missing_release(f, devices)[0]
                    except NoFix as exc:
                        why, exits = str(exc), []
                        break
                    why, exits = rechecker.check_more(f, c.fix, texts)
                while why and exits and f.shape == "error-exit-leak" and len(extra) < MAX_EXITS \
                        and not set(exits) <= set(extra):
                    # the same resource leaks through another error exit too
                    extra = sorted(set(extra) | set(exits))
                    try:
                        c = proposer._error_exit(f, extra)[0]
                    except NoFix as exc:
                        why, exits = str(exc), []
                        break
                    why, exits = rechecker.check_more(f, c.fix, texts)
                if not why:
                    out[f.fingerprint] = FixResult(fix=c.fix, tried=len(cands), failed=tuple(failed))
                    break
                failed.append(f"{c.how}: {why}")
            else:
                out[f.fingerprint] = FixResult(none=f"no candidate passes the re-check: {failed[0]}",
                                               tried=len(cands), failed=tuple(failed))
    finally:
        rechecker.close()
    return out


def source_texts(tree: QemuTree, results: Dict[str, FixResult]) -> Dict[str, str]:
    """The original text of every file the fixes touch."""
    out: Dict[str, str] = {}
    for r in results.values():
        if r.fix is not None:
            for rel in r.fix.files:
                if rel not in out:
                    out[rel] = (tree.root / rel).read_text(encoding="utf-8", errors="surrogateescape")
    return out


def fixes_for(tree: QemuTree, catalog: Catalog, program: Program, findings: Sequence[Finding],
              select: Optional[Set[str]] = None,
              progress: Optional[Callable[[int, int, str], None]] = None) -> Dict[str, FixResult]:
    """``checked_fixes`` with the tree's stub folder (the one the run's
    preprocessing used)."""
    from .. import __version__
    from ..cache import cache_root
    from ..frontend.preprocess import stub_dir_for
    return checked_fixes(tree, catalog, program, stub_dir_for(tree, cache_root(), __version__), findings,
                         select, progress)


def combined(texts: Dict[str, str], fixes: Sequence[Fix]) -> Tuple[List[Tuple[Fix, str]], Dict[str, str]]:
    """Apply ``fixes`` one after the other: each fix's diff against the
    text the fixes before it left (so the diffs, printed in order, apply
    with ``git apply`` as one input), and the final texts.  A fix whose
    edits clash with earlier ones is left out."""
    done: List[Fix] = []
    out: List[Tuple[Fix, str]] = []
    current = dict(texts)
    from .edits import unified_diff
    for fix in fixes:
        ops = [op for f in done + [fix] for op in f.ops]
        try:
            new = apply_ops(texts, ops)
        except EditError:
            continue
        diff = "".join(unified_diff(f, current.get(f, texts[f]), new[f]) for f in sorted(new)
                       if new[f] != current.get(f, texts[f]))
        done.append(fix)
        current.update(new)
        out.append((fix, diff))
    return out, {f: t for f, t in current.items() if t != texts.get(f)}
