"""The frontend: C files in, ``model.TranslationUnit`` records out.

Preprocessing (preprocess.py, prelude.h), chunked parsing (chunks.py,
parse.py, plytables.py), the C facts of functions (functions.py, cfg.py,
astwalk.py) and QOM recognition (qom.py, with the names of qomtable.py),
wired per file by unit.py.  This package is the only layer that knows the
preprocessor and pycparser: everything above it sees the model.  It imports
nothing of the layers above (graph, rules, report, analysis, cache, cli).
"""
from __future__ import annotations

from pathlib import Path
from typing import List


def data_files() -> List[Path]:
    """The files shipped with lifecheck, other than its Python code, that
    the frontend reads and whose content shapes a unit: the prelude that
    stands in for libc and glib (``prelude.h``) and the QOM table
    (``rules/tables/qom.toml`` of the bundled rules folder).  A cached unit
    is valid only while their content is unchanged.  The tree's own files,
    stubs included, are not listed: they are in each unit's include
    closure."""
    from .preprocess import PRELUDE
    from .qomtable import table_path
    return [PRELUDE, table_path()]
