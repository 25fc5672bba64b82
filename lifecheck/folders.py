"""Where lifecheck keeps its own files: the cache folder and the bundled
rule data.

One definition for every layer: the frontend (parser tables, preprocessor
stubs, its QOM table), the rule catalog and the unit cache all ask here.
This module knows only the environment and the package layout; it imports
nothing of lifecheck, so any layer may import it.
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache folder: $LIFECHECK_CACHE_DIR, else $XDG_CACHE_HOME/lifecheck,
    else ~/.cache/lifecheck."""
    env = os.environ.get("LIFECHECK_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lifecheck"


def default_rules_dir() -> Path:
    """The rules/ folder: packaged as lifecheck/_rules, or the source tree's."""
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    return here.parent / "rules"
