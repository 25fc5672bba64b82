"""Helper files read for context when only some files of a folder are
checked.

A device file calls helpers defined in its neighbours: vfio's display.c
calls vfio_get_dev_region_info() of hw/vfio/device.c, which allocates
what it stores through its last argument; vdpa-dev.c calls
vhost_dev_cleanup() of hw/virtio/vhost.c, which walks the array the
device freed just before.  A whole-hw/ run sees those bodies and
summarises them (facts/summary.py); a run on one file -- the pre-commit
hook's, a reviewer's ``lifecheck check hw/vfio/display.c`` -- did not, so
its findings depended on how many files it was given.  ``context_files``
names the files of the same folders that define the functions the
requested files call and do not define themselves, so that those bodies
are part of the program; their own findings are not reported (the run's
report is about the files asked for).

The lookup is textual and cheap (no preprocessing): the identifiers
called in the requested files, less those they define, less the calls
the API table describes (their bodies are never followed), matched
against the non-static function definitions at the start of a line in the
other .c files of the same folders -- QEMU's style puts a definition's
name on its first line (checkpatch's rules).  At most ``MAX_CONTEXT``
files are read, those defining the most wanted names first, so that a
single-file run stays a single-file run in cost.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Set

# how many neighbour files a run reads for context at most
MAX_CONTEXT = 6
# neighbour files larger than this are not read for context (bytes)
MAX_CONTEXT_SIZE = 400_000

_CALLED = re.compile(rb"\b([A-Za-z_]\w*)\s*\(")
# a definition's first line: no indent, not static, not a prototype
_DEFINED = re.compile(rb"^(?!static\b|extern\b|typedef\b|#)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\(([^;]*)$",
                      re.MULTILINE)
_STATIC_DEFINED = re.compile(rb"^static\b[\w \t\*]*?\b([A-Za-z_]\w*)\s*\(", re.MULTILINE)
_KEYWORDS = {b"if", b"for", b"while", b"switch", b"return", b"sizeof", b"do", b"case", b"defined",
             b"typeof", b"__typeof__", b"__attribute__", b"offsetof", b"else"}


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_CONTEXT_SIZE + 1)
    except OSError:
        return b""


def _defined(text: bytes) -> Set[bytes]:
    return {m.group(1) for m in _DEFINED.finditer(text) if not m.group(2).rstrip().endswith(b";")}


def wanted_calls(texts: Iterable[bytes], skip: Set[str]) -> Set[bytes]:
    """The functions the texts call and define nowhere among them, less
    ``skip`` (the API table's functions)."""
    called: Set[bytes] = set()
    defined: Set[bytes] = set()
    for text in texts:
        called.update(m.group(1) for m in _CALLED.finditer(text))
        defined.update(_defined(text))
        defined.update(m.group(1) for m in _STATIC_DEFINED.finditer(text))
    return {name for name in called - defined - _KEYWORDS
            if not name.isupper() and name.decode("ascii", "replace") not in skip}


def context_files(root: Path, files: Sequence[Path], skip: Set[str],
                  exclude: Iterable[str] = ()) -> List[Path]:
    """The .c files beside ``files`` (same folders, not among them, not
    in ``exclude``: root-relative paths such as the qdev core's) that
    define functions ``files`` call without defining, most useful first,
    at most MAX_CONTEXT."""
    asked = {os.path.realpath(f) for f in files}
    excluded = {os.path.realpath(root / e) for e in exclude}
    # the neighbours first: a run on whole folders has none, and reads
    # nothing more
    neighbours: List[Path] = []
    for folder in sorted({f.parent for f in files}):
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            path = folder / name
            real = os.path.realpath(path)
            if name.endswith(".c") and real not in asked and real not in excluded and path.is_file():
                neighbours.append(path)
    if not neighbours:
        return []
    wanted = wanted_calls((_read(f) for f in files), skip)
    if not wanted:
        return []
    score: Dict[Path, int] = {}
    for path in neighbours:
        text = _read(path)
        if not text or len(text) > MAX_CONTEXT_SIZE or b"\0" in text[:8192]:
            continue
        hits = len(_defined(text) & wanted)
        if hits:
            score[path] = hits
    ranked = sorted(score, key=lambda p: (-score[p], str(p)))
    return ranked[:MAX_CONTEXT]
