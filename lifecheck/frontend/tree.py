"""The QEMU source tree being checked: its root, its version, and which
header declares a function.

A tree root is the folder that holds ``VERSION`` and ``include/qemu/``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, Optional, Tuple


class TreeError(Exception):
    """The tree root cannot be found or is not a QEMU tree."""


def is_tree_root(path: Path) -> bool:
    return (path / "VERSION").is_file() and (path / "include" / "qemu").is_dir()


def find_root(start: Path) -> Optional[Path]:
    """Walk up from ``start`` to the nearest QEMU tree root."""
    path = start.resolve()
    if path.is_file():
        path = path.parent
    for candidate in (path, *path.parents):
        if is_tree_root(candidate):
            return candidate
    return None


@dataclass(frozen=True)
class QemuTree:
    root: Path
    version_text: str
    version: Optional[Tuple[int, ...]]

    @classmethod
    def open(cls, root: Path) -> "QemuTree":
        root = Path(root).resolve()
        if not root.is_dir():
            raise TreeError(f"{root}: not a folder")
        if not is_tree_root(root):
            raise TreeError(f"{root}: not a QEMU tree (no VERSION file and include/qemu/ folder)")
        try:
            text = (root / "VERSION").read_text(encoding="utf-8", errors="replace").strip()
        except OSError as exc:
            raise TreeError(f"{root / 'VERSION'}: cannot read: {exc.strerror}") from None
        numbers = re.findall(r"\d+", text)
        version = tuple(int(n) for n in numbers[:3]) if numbers else None
        return cls(root=root, version_text=text, version=version)

    def relative(self, path: Path) -> str:
        """Path relative to the root, '/'-separated; absolute if outside."""
        # os.path.realpath, unlike Path.resolve, never raises on a link loop
        real = Path(os.path.realpath(path))
        try:
            return real.relative_to(self.root).as_posix()
        except ValueError:
            return real.as_posix()

    def declaring_headers(self, names: Iterable[str]) -> Dict[str, str]:
        """name -> the header (relative path) that declares the function
        or function-like macro ``name``: the first by path under
        ``include/``, else the first other ``.h`` of the tree.  A textual
        search (a name followed by ``(`` after a type, or at the start of a
        line, as QEMU puts long return types on the line before); names
        no header declares are left out."""
        wanted = set(names)
        found: Dict[str, str] = {}
        for path in self._headers():
            if not wanted:
                break
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            here = [n for n in wanted if n in text]
            if not here:
                continue
            declared = _declared_names(text)
            for name in here:
                if name in declared:
                    found[name] = self.relative(path)
                    wanted.discard(name)
        return found

    def _headers(self) -> Iterator[Path]:
        include = self.root / "include"
        yield from sorted(include.rglob("*.h"))
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and not (here == self.root and d == "include"))
            for name in sorted(filenames):
                if name.endswith(".h"):
                    yield here / name


_MACRO_RE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\(", re.M)
_DECL_RE = re.compile(r"^([A-Za-z_][\w \t\*]*?[\s\*])?([A-Za-z_]\w*)[ \t]*\(", re.M)
_NOT_A_TYPE_RE = re.compile(r"\b(return|else|if|while|for|switch|case|sizeof)\b")


def _declared_names(text: str) -> set:
    """Functions and function-like macros a header declares or defines."""
    names = set(_MACRO_RE.findall(text))
    for m in _DECL_RE.finditer(text):
        if not _NOT_A_TYPE_RE.search(m.group(1) or ""):
            names.add(m.group(2))
    return names
