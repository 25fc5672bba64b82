"""``--diff REV``: report only findings on code changed since REV.

What a merge-request job or a pre-commit hook wants: every requested file
is still analysed (a finding in one function depends on others), then a
finding is kept when its line, or any line of the function holding it, was
changed -- and the same for its related locations (the release that is
missing from unrealize, the hook it is reached from), so deleting a
``memory_region_del_subregion`` from unrealize reports the mapping in
realize.  Changed lines come from ``git diff -U0 REV`` against the working
tree, run in the tree root; files git does not track yet count as changed
throughout.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Dict, Optional, Set

from .findings import Report
from .model import Location

# file -> changed line numbers (new side); None: the whole file is new
Changes = Dict[str, Optional[Set[int]]]

_HUNK_RE = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class DiffError(Exception):
    """git cannot say what changed; the message says why."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-c", "core.quotePath=false", *args], cwd=str(root),
                              capture_output=True, text=True, errors="replace", timeout=300)
    except FileNotFoundError:
        raise DiffError("--diff needs git, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise DiffError("git diff took longer than 300 s") from None


def _unquote(path: str) -> str:
    if len(path) >= 2 and path[0] == '"' and path[-1] == '"':
        path = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    return path


def parse_diff(text: str) -> Changes:
    """Changed lines per file from ``git diff -U0`` output (paths as git
    prints them, ``b/`` prefix removed)."""
    changes: Changes = {}
    current: Optional[str] = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = _unquote(line[4:].rstrip("\t"))
            current = None if target == "/dev/null" else target[2:] if target.startswith("b/") else target
            if current is not None:
                changes.setdefault(current, set())
            continue
        m = _HUNK_RE.match(line)
        if m and current is not None:
            start = int(m.group(1))
            count = 1 if m.group(2) is None else int(m.group(2))
            lines = changes[current]
            assert lines is not None
            if count == 0:
                # lines were only removed, after line ``start``: the code
                # around the gap changed
                lines.update((start, start + 1))
            else:
                lines.update(range(start, start + count))
    return changes


def changed_lines(root: Path, rev: str) -> Changes:
    """What changed in the tree at ``root`` since ``rev`` (committed,
    staged or not, and untracked files), paths relative to ``root``."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        said = (top.stderr.strip().splitlines() or [""])[0]
        if "not a git repository" in said or not said:
            raise DiffError(f"--diff: {root} is not inside a git repository")
        raise DiffError(f"--diff: git cannot read {root}: {said}")
    known = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}")
    if known.returncode != 0:
        raise DiffError(f"--diff: unknown revision '{rev}' in {top.stdout.strip()}")
    proc = _git(root, "diff", "-U0", "--no-color", "--no-ext-diff", "--no-renames", "--relative",
                rev, "--", ".")
    if proc.returncode != 0:
        raise DiffError(f"--diff: git diff {rev} failed: {proc.stderr.strip()}")
    changes = parse_diff(proc.stdout)
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--", ".")
    for path in untracked.stdout.splitlines():
        if path.strip():
            changes[_unquote(path.strip())] = None
    return changes


def _touched(loc: Location, changes: Changes, report: Report) -> bool:
    if loc.file not in changes:
        return False
    lines = changes[loc.file]
    if lines is None or loc.line in lines:
        return True
    for span in report.spans.get(loc.file, []):
        if span.start <= loc.line <= span.end and any(span.start <= n <= span.end for n in lines):
            return True
    return False


def apply(report: Report, changes: Changes) -> None:
    """Keep only findings whose location or related locations are on a
    changed line or in a changed function."""
    report.findings = [
        f for f in report.findings
        if _touched(f.loc, changes, report) or any(_touched(r.loc, changes, report) for r in f.related)
    ]
