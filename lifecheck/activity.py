"""What the main process is doing now, for the message of an internal error.

An exception that escapes the main process is a bug in lifecheck; the user
can do nothing with a traceback, but can with "while running rule X on
device type Y, hw/foo/bar.c".  So each phase (and, where one is known, the
file it works on) is noted here as it starts; ``cli.main`` names the last
one noted when something fails.  A phase is never "ended": the next one
replaces it, and one that raised stays the last one noted.

A note is one assignment, cheap enough for the rules' inner loop.  This
module imports nothing of lifecheck, so every layer may use it.
"""
from __future__ import annotations

from typing import Optional, Tuple

_now: Optional[Tuple[str, str]] = None


def doing(what: str, file: str = "") -> None:
    """Note that the process is now ``what`` (a phrase that follows
    "while", e.g. "decoding the cached analysis"), on ``file`` (relative to
    the tree root) when it works on one."""
    global _now
    _now = (what, file)


def describe() -> str:
    """``while <what>, <file>`` for the last note ("" when there is none)."""
    if _now is None:
        return ""
    what, file = _now
    return f"while {what}, {file}" if file else f"while {what}"
