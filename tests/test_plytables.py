"""pycparser 2's PLY tables (the Python 3.9 line): kept as data in the
cache folder, reused, rebuilt when damaged, never written elsewhere, and
not needed at all when the cache folder cannot be written."""
from __future__ import annotations

import json
import os

import pytest

from lifecheck.frontend import parse, plytables

pytestmark = pytest.mark.skipif(parse._NEW_PARSER, reason="pycparser 3 has no PLY tables (Python >= 3.10)")

SOURCE = "typedef int T; T f(T a) { return ({ a; }) + 1; }"


def _parses(parser) -> None:
    ast = parser.parse_chunk(SOURCE, "x.c")
    assert [type(n).__name__ for n in ast.ext] == ["Typedef", "FuncDef"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("LIFECHECK_CACHE_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    return folder


def test_table_is_kept_in_the_cache_and_reused(cache, tmp_path, monkeypatch):
    _parses(parse._CarryingParser())
    table = plytables.tables_dir() / "yacc.json"
    assert plytables.tables_dir().parent == cache / "parser-tables"
    assert json.loads(table.read_text())["action"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]   # nothing in the current folder
    writes = []
    monkeypatch.setattr(plytables, "_write_table", lambda *a: writes.append(a))
    _parses(parse._CarryingParser())
    assert not writes


@pytest.mark.parametrize("damage", ["truncated", "other grammar", "not json"])
def test_damaged_table_is_rebuilt(cache, damage):
    parse._CarryingParser()
    table = plytables.tables_dir() / "yacc.json"
    if damage == "truncated":
        table.write_bytes(table.read_bytes()[:1000])
    elif damage == "other grammar":
        data = json.loads(table.read_text())
        data["signature"] = "x"
        table.write_text(json.dumps(data))
    else:
        table.write_text("import os; os.system('false')")
    _parses(parse._CarryingParser())
    assert json.loads(table.read_text())["signature"] != "x"
    assert not [p for p in table.parent.iterdir() if p.name != "yacc.json"], "temporary files left behind"


def test_unwritable_cache_builds_in_memory(tmp_path, monkeypatch, capfd):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("LIFECHECK_CACHE_DIR", str(blocker / "cache"))   # below a file: cannot exist
    monkeypatch.chdir(tmp_path)
    _parses(parse._CarryingParser())
    assert sorted(os.listdir(tmp_path)) == ["file"]
    assert capfd.readouterr().err == ""
