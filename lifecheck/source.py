"""Source text as the workflow filters need it: where each function's
definition starts and ends.

The model gives a function's first line and the line of its last
statement; suppressions and ``--diff`` need the closing brace too (a line
deleted just before it changes the function).  Read in the main process,
after the model is built; this module knows nothing about pycparser.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from .findings import FunctionSpan


def read_lines(root: Path, rel: str) -> List[str]:
    """The lines of ``root/rel`` (empty when unreadable; bytes that are not
    UTF-8 are replaced)."""
    try:
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError:
        return []


def function_spans(root: Path, functions: Iterable[Tuple[str, str, int, int]]) -> Dict[str, List[FunctionSpan]]:
    """``(name, file, first line, last statement line)`` -> spans per file,
    sorted, each extended to its closing brace: the first line after the
    last statement that is a lone ``}`` and comes before the next function."""
    by_file: Dict[str, set] = {}
    for name, file, start, end in functions:
        by_file.setdefault(file, set()).add((start, max(end, start), name))
    out: Dict[str, List[FunctionSpan]] = {}
    for file in sorted(by_file):
        lines = read_lines(root, file)
        items = sorted(by_file[file])
        spans = []
        for i, (start, end, name) in enumerate(items):
            limit = min(items[i + 1][0] - 1 if i + 1 < len(items) else len(lines), len(lines))
            for n in range(end, limit + 1):
                if lines[n - 1].rstrip() == "}":
                    end = n
                    break
            spans.append(FunctionSpan(name, file, start, end))
        out[file] = spans
    return out
