"""The parser tables of the PLY-based pycparser 2.x (the Python 3.9 line).

pycparser 2's ``CParser`` builds its lexer and its LALR parser with PLY.
PLY imports its tables as Python modules by name and, when they are
missing, generates them (about 1.2 s) and writes them as ``lextab.py`` and
``yacctab.py`` into ``taboutputdir`` -- by default the current folder.
GnuCParser names ``pycparserext.lextab`` and ``pycparserext.yacctab``,
which pycparserext does not ship, so every process generated the tables
again and wrote them wherever it was started, the checked tree included.

Here instead:

- the lexer is built without a table (``lex_optimize`` off): that costs a
  few milliseconds, so no lextab is read or written;
- the parser table is kept as JSON (data, not code: nothing from the cache
  is run) in ``<cache>/parser-tables/pycparser-V+pycparserext-V/``, written
  atomically; PLY compares its grammar signature with the parser's before
  using it (``yacc_optimize`` off), so a changed grammar rebuilds it;
- when that folder cannot be written, the table is generated in memory
  and nothing is written anywhere.

PLY's ``yacc()`` writes its table unless told ``write_tables=False``, which
``CParser.__init__`` does not pass on: while a parser is built,
``pycparser.c_parser`` sees a stand-in for PLY's yacc module that passes
it.

This module knows pycparser 2.x, pycparserext 2024.1 and PLY 3.10 (the
versions pinned for Python < 3.10 in pyproject.toml); nothing of the model
or of what is done with the parser.
"""
from __future__ import annotations

import json
import os
import tempfile
import types
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import pycparser
from pycparser import c_parser

from ..folders import cache_root

try:
    from pycparser.ply import yacc as ply_yacc   # pycparser 2.x bundles PLY
except ImportError:  # pycparser 3: no PLY, nothing here is used
    ply_yacc = None

_TABLE_FILE = "yacc.json"
# the start symbol CParser.__init__ gives yacc() (part of the grammar signature)
_START = "translation_unit_or_empty"
# Tables PLY looks for when there are none of ours (GnuCParser's own name):
# pycparserext ships no such module, so the import fails without searching
# the current folder or the checked tree, and PLY generates the tables.
_NO_TABLE = "pycparserext.yacctab"


def _versions() -> str:
    try:
        from importlib.metadata import version
        return f"pycparser-{version('pycparser')}+pycparserext-{version('pycparserext')}"
    except Exception:  # not installed as distributions
        return f"pycparser-{getattr(pycparser, '__version__', 'unknown')}+pycparserext-unknown"


def tables_dir() -> Path:
    """The folder of the parser table for the installed pycparser and
    pycparserext."""
    return cache_root() / "parser-tables" / _versions()


def init_parser(parser: c_parser.CParser, **kwds: Any) -> None:
    """Run pycparser 2's ``CParser.__init__`` on ``parser`` (an instance of
    a GnuCParser subclass, whose own ``__init__`` would name PLY's table
    modules itself) with the table from ``tables_dir()``, writing it there
    when it had to be generated."""
    folder = tables_dir()
    table = _read_table(folder / _TABLE_FILE)
    with _yacc_without_writing():
        c_parser.CParser.__init__(parser, lexer=type(parser).lexer_class, lex_optimize=False,
                                  yacctab=table if table is not None else _NO_TABLE,
                                  yacc_optimize=False, **kwds)
    if table is None or parser.cparser.action is not table._lr_action:
        _write_table(folder, parser)


class _YaccWithoutWriting:
    """PLY's yacc module as ``pycparser.c_parser`` sees it while a parser
    is built: ``yacc()`` never writes a table file."""

    def __getattr__(self, name: str) -> Any:
        return getattr(ply_yacc, name)

    @staticmethod
    def yacc(**kwds: Any) -> Any:
        return ply_yacc.yacc(write_tables=False, **kwds)


@contextmanager
def _yacc_without_writing() -> Iterator[None]:
    saved = c_parser.yacc
    c_parser.yacc = _YaccWithoutWriting()
    try:
        yield
    finally:
        c_parser.yacc = saved


def _read_table(path: Path) -> Optional[types.ModuleType]:
    """The table in ``path`` as the module PLY expects, or None when there
    is none, it is damaged, or it is for another PLY."""
    try:
        with open(path, "rb") as fh:
            data = json.load(fh)
        if data["tabversion"] != ply_yacc.__tabversion__:
            return None   # PLY would only warn about it
        table = types.ModuleType("lifecheck_yacctab")
        table._tabversion = data["tabversion"]
        table._lr_method = data["method"]
        table._lr_signature = data["signature"]
        table._lr_action = {int(state): dict(row) for state, row in data["action"].items()}
        table._lr_goto = {int(state): dict(row) for state, row in data["goto"].items()}
        table._lr_productions = [(str(p[0]), str(p[1]), int(p[2]), p[3], p[4], p[5])
                                 for p in data["productions"]]
        return table
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def _signature(parser: c_parser.CParser) -> str:
    """The grammar signature PLY's yacc() computes for ``parser``."""
    pdict = {name: getattr(parser, name) for name in dir(parser)}
    pdict["start"] = _START
    info = ply_yacc.ParserReflect(pdict)
    info.get_all()
    return info.signature()


def _write_table(folder: Path, parser: c_parser.CParser) -> None:
    """Keep the table ``parser`` was built with, as PLY's write_table()
    would (the same fields), in JSON; silently nothing when the folder
    cannot be written."""
    lr = parser.cparser
    productions = [(p.str, p.name, p.len, p.func, os.path.basename(p.file), p.line) if p.func
                   else (p.str, p.name, p.len, None, None, None) for p in lr.productions]
    data = {"tabversion": ply_yacc.__tabversion__, "method": "LALR", "signature": _signature(parser),
            "action": lr.action, "goto": lr.goto, "productions": productions}
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".yacc.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, folder / _TABLE_FILE)   # readers see the old file or the whole new one
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
