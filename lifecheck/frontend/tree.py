"""The QEMU source tree being checked: its root and its version.

A tree root is the folder that holds ``VERSION`` and ``include/qemu/``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple


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
