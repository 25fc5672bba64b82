"""The unit cache: a hit gives the same report as a fresh analysis, a
damaged or stale entry is a miss (never a crash, never a wrong result),
runs sharing one cache are safe, and nothing is written into the tree."""
from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from lifecheck import analysis, cache, model
from lifecheck.frontend.tree import QemuTree
from lifecheck.progress import ProgressBar
from lifecheck.report import json_format


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("LIFECHECK_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def tree_copy(tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES, root)
    return root


@pytest.fixture
def analysed(monkeypatch):
    """Counts files the frontend really analyses (runs use -j 1, in this
    process)."""
    seen = []
    real = analysis.analyse_file_with_closure

    def counting(pre, path):
        seen.append(QemuTree.relative(pre.tree, path))
        return real(pre, path)
    monkeypatch.setattr(analysis, "analyse_file_with_closure", counting)
    return seen


def _json(report) -> str:
    out = io.StringIO()
    json_format.report(report, out)
    return out.getvalue()


def _run(root, catalog, use_cache=True, paths=None, select=None):
    tree = QemuTree.open(root)
    report, internal = analysis.run(tree, [root / p for p in (paths or ["hw"])], catalog, jobs=1,
                                    select=select, use_cache=use_cache)
    assert not internal
    return report


def _entries(cache_dir: Path):
    return sorted((cache_dir / "units").rglob("*.lcu"))


def test_warm_run_reads_the_cache_and_reports_the_same(tree_copy, cache_dir, catalog, analysed):
    fresh = _json(_run(tree_copy, catalog, use_cache=False))
    n_files = len(analysed)
    assert n_files > 5
    cold = _json(_run(tree_copy, catalog))
    assert len(analysed) == 2 * n_files
    assert len(_entries(cache_dir)) == n_files
    warm = _json(_run(tree_copy, catalog))
    assert len(analysed) == 2 * n_files, "the warm run analysed files again"
    assert cold == fresh and warm == fresh
    # a different question over the same entries: units decoded, rules rerun
    subset = _json(_run(tree_copy, catalog, select={"del-subregion-in-finalize"}))
    assert len(analysed) == 2 * n_files
    assert subset == _json(_run(tree_copy, catalog, use_cache=False, select={"del-subregion-in-finalize"}))
    assert '"del-subregion-in-finalize"' in subset


def test_codec_round_trip_of_real_units(tree_copy, catalog):
    tree = QemuTree.open(tree_copy)
    files = analysis.collect_files(tree, [tree_copy / "hw"]).files
    units, internal = analysis.build_units(tree, files, 1)
    assert not internal
    for unit in units:
        value = json.loads(json.dumps(cache.encode_unit(unit)))
        assert cache.decode_unit(value) == unit
        # what entries hold: the same text as encode_unit's value, written in one pass
        text = cache.dumps_unit(unit)
        assert text == json.dumps(cache.encode_unit(unit), separators=(",", ":"), ensure_ascii=False)
        assert cache.decode_unit(json.loads(text)) == unit


def test_dumps_unit_writes_what_encode_unit_makes():
    """Every field kind of the model (nested dataclasses, optional ones,
    tuples of tuples, dicts, sets) comes out as encode_unit's value."""
    loc = model.Location("hw/x.c", 3, 5)
    path = model.AccessPath("param:0", (("->", "mmio"), ("[]", "")), address_of=True)
    call = model.CallSite(callee="f", args=(model.Expr("path", "&s->mmio", path=path),
                                            model.Expr("call", "g()", callee="g")),
                          loc=loc, result=None, requires=("h",), guards=(path,))
    fn = model.Function("f", loc, 9, True, (model.Param("s", "S *"),),
                        locals={"x": model.LocalVar("x", "int", loc, cleanup=True)}, calls=[call],
                        cfg=[model.CfgNode("entry", succ=(1,)), model.CfgNode("exit", line=9)])
    unit = model.TranslationUnit("hw/x.c", functions={"f": fn}, qom_casts=("FOO",),
                                 properties={"p": []},
                                 stats=model.ParseStats(3, 2, {"why": 1}))
    text = cache.dumps_unit(unit)
    assert text == json.dumps(cache.encode_unit(unit), separators=(",", ":"), ensure_ascii=False)
    assert cache.decode_unit(json.loads(text)) == unit
    with pytest.raises(TypeError):
        cache.dumps_unit(model.TranslationUnit("hw/x.c", qom_casts=(object(),)))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "flipped-byte", "wrong-format",
                                    "wrong-shape"])
def test_damaged_entry_is_a_miss_and_is_rebuilt(tree_copy, cache_dir, catalog, analysed, damage):
    reference = _json(_run(tree_copy, catalog))
    n_files = len(analysed)
    for entry in _entries(cache_dir):
        blob = entry.read_bytes()
        if damage == "truncated":
            blob = blob[: len(blob) // 2]
        elif damage == "garbage":
            blob = os.urandom(len(blob))
        elif damage == "empty":
            blob = b""
        elif damage == "flipped-byte":
            blob = blob[:-10] + bytes([blob[-10] ^ 0xFF]) + blob[-9:]
        else:
            # intact checksum, but the content is not what this version writes
            _, head_z, body_z = cache._split(blob)
            head, body = cache._unz(head_z), cache._unz(body_z)
            if damage == "wrong-format":
                head["format"] = cache.FORMAT + 1
            else:
                body[1] = "not a dict of functions"
            blob = cache._pack(head, body)
        entry.write_bytes(blob)
    for run_file in (cache_dir / "units").rglob("*.lcr"):
        run_file.unlink()  # so that the units themselves are needed
    again = _json(_run(tree_copy, catalog))
    assert again == reference
    assert len(analysed) == 2 * n_files, "every damaged entry must be analysed again"
    _run(tree_copy, catalog)
    assert len(analysed) == 2 * n_files, "the rebuilt entries must be valid"


def test_damaged_run_result_is_a_miss(tree_copy, cache_dir, catalog, analysed):
    reference = _json(_run(tree_copy, catalog))
    runs = list((cache_dir / "units").rglob("*.lcr"))
    assert len(runs) == 1
    runs[0].write_bytes(runs[0].read_bytes()[:-7])
    assert _json(_run(tree_copy, catalog)) == reference


def test_other_rules_keep_the_units_and_rerun_the_rules(tree_copy, cache_dir, catalog, analysed):
    """The cache is layered: a unit depends on the file and the frontend,
    never on rule data.  Other rules re-run the rules over the cached units
    (the run entry is a miss) without parsing anything again."""
    _run(tree_copy, catalog)
    n_files = len(analysed)
    spec = catalog.rules["del-subregion-in-finalize"]
    other = dataclasses.replace(catalog, rules=dict(catalog.rules))
    template = "{resource}: deleted too late (reworded)"
    other.rules[spec.slug] = dataclasses.replace(
        spec, config=dataclasses.replace(spec.config, message=template))
    assert cache.data_hash(other) != cache.data_hash(catalog)
    report = _run(tree_copy, other)
    assert len(analysed) == n_files, "no unit may be analysed again"
    messages = {f.message for f in report.findings if f.rule == spec.slug}
    assert messages and all(m.endswith("deleted too late (reworded)") for m in messages)
    again = _run(tree_copy, catalog)
    assert len(analysed) == n_files
    assert not any(f.message.endswith("(reworded)") for f in again.findings)


def test_the_unit_key_holds_no_rule_data(tree_copy, catalog):
    """What a unit entry is keyed by: the frontend's code and data, the
    preprocessor command and the parser's versions."""
    key = cache.make_key(["gcc", "-E"])
    assert set(key) == {"frontend", "preprocess", "parser"}
    assert cache.frontend_hash() != cache.tool_hash()


def test_the_frontend_imports_only_what_its_hash_covers():
    """``cache.FRONTEND_SOURCES`` lists every lifecheck module the frontend's
    output depends on: the frontend may import nothing else of lifecheck."""
    import ast
    pkg = REPO / "lifecheck"
    covered = [pkg / part for part in cache.FRONTEND_SOURCES]
    for path in sorted((pkg / "frontend").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                target = base.joinpath(*(node.module or "").split(".")) if node.module else base
                target_py = target.with_suffix(".py")
                module = target if target.is_dir() else target_py
                assert any(module == c or c in module.parents for c in covered), \
                    f"{path.relative_to(REPO)} imports {module.relative_to(REPO)}, not in FRONTEND_SOURCES"


def test_rule_hash_is_stable_across_processes(catalog):
    code = ("from lifecheck.rules.catalog import load_catalog; from lifecheck.cache import data_hash; "
            "print(data_hash(load_catalog()))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                           env=dict(os.environ, PYTHONHASHSEED=seed)).stdout.strip() for seed in ("1", "2")}
    assert outs == {cache.data_hash(catalog)}


def test_editing_an_included_header_invalidates_the_file(tree_copy, cache_dir, catalog, analysed):
    src = tree_copy / "hw/timer/tick-counter.c"
    text = src.read_text()
    call = "memory_region_del_subregion(get_system_io(), &s->latch); /* lifecheck: expect[del-subregion-in-finalize] */"
    assert text.count(call) == 1
    src.write_text(text.replace('#include "qom/object.h"', '#include "qom/object.h"\n#include "tick-release.h"', 1)
                   .replace(call, "TICK_COUNTER_RELEASE(s);"))
    header = tree_copy / "hw/timer/tick-release.h"
    header.write_text("#define TICK_COUNTER_RELEASE(s) memory_region_del_subregion(get_system_io(), &(s)->latch)\n")

    def rules_in_file(report):
        return {f.rule for f in report.findings if f.loc.file == "hw/timer/tick-counter.c"}
    before = _run(tree_copy, catalog)
    assert "del-subregion-in-finalize" in rules_in_file(before)
    n_files = len(analysed)
    header.write_text("#define TICK_COUNTER_RELEASE(s) do { } while (0)\n")
    after = _run(tree_copy, catalog)
    assert analysed[n_files:] == ["hw/timer/tick-counter.c"], "only the file including the header is redone"
    assert "del-subregion-in-finalize" not in rules_in_file(after)
    assert _json(after) == _json(_run(tree_copy, catalog, use_cache=False))


def test_cache_lives_in_the_cache_folder_not_in_the_tree(tree_copy, cache_dir, catalog):
    def snapshot():
        return {str(p.relative_to(tree_copy)): p.stat().st_mtime_ns for p in tree_copy.rglob("*")}
    before = snapshot()
    _run(tree_copy, catalog)
    _run(tree_copy, catalog)
    assert snapshot() == before
    assert _entries(cache_dir)
    assert all(str(p).startswith(str(cache_dir)) for p in _entries(cache_dir))


def test_no_cache_writes_no_entries(tree_copy, cache_dir, catalog):
    _run(tree_copy, catalog, use_cache=False)
    assert not _entries(cache_dir)


def _cli(*args, env=None, **kw):
    return subprocess.Popen([sys.executable, "-m", "lifecheck", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_concurrent_runs_sharing_a_cache(tree_copy, cache_dir):
    env = dict(os.environ, LIFECHECK_CACHE_DIR=str(cache_dir))
    args = ("check", str(tree_copy / "hw"), "--format", "json", "-j", "1")
    reference = _cli(*args, "--no-cache", env=env).communicate(timeout=600)[0]
    assert '"findings"' in reference
    procs = [_cli(*args, env=env) for _ in range(3)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert outs == [reference] * 3
    assert _cli(*args, env=env).communicate(timeout=600)[0] == reference
    assert not list(cache_dir.rglob("*.part")), "temporary files left behind"


def test_clear_cache_flag(tree_copy, cache_dir):
    env = dict(os.environ, LIFECHECK_CACHE_DIR=str(cache_dir))
    _cli("check", str(tree_copy / "hw/misc"), "-q", env=env).communicate(timeout=600)
    assert _entries(cache_dir)
    cache.clear(cache_dir)
    assert not _entries(cache_dir)


# -- progress ------------------------------------------------------------------

def test_progress_bar_rewrites_one_line():
    out = io.StringIO()
    now = [0.0]
    bar = ProgressBar(out, interval=1.0, clock=lambda: now[0])
    bar(1, 12, "hw/net/e1000.c")
    bar(2, 12, "hw/net/skipped.c")       # too soon: not drawn
    now[0] = 2.0
    bar(3, 12, "hw/a.c")
    bar(12, 12, "hw/last.c")             # the last one is always drawn
    bar.close()
    text = out.getvalue()
    assert text.startswith("\r[ 1/12] hw/net/e1000.c")
    assert "skipped" not in text
    # a shorter line blanks out the rest of the longer one
    assert "\r[ 3/12] hw/a.c" + " " * (len("hw/net/e1000.c") - len("hw/a.c")) in text
    assert "[12/12] hw/last.c" in text
    assert text.endswith("\r")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
@pytest.mark.parametrize("quiet", [False, True])
def test_progress_only_on_a_terminal(tree_copy, cache_dir, quiet):
    env = dict(os.environ, LIFECHECK_CACHE_DIR=str(cache_dir))
    total = len(list((tree_copy / "hw/misc").glob("*.c")))
    assert total > 1
    master, slave = os.openpty()
    try:
        args = ["check", str(tree_copy / "hw/misc"), "-j", "1", "--no-cache"] + (["-q"] if quiet else [])
        proc = subprocess.Popen([sys.executable, "-m", "lifecheck", *args], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = -1
        proc.communicate(timeout=600)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not data:
                break
            chunks.append(data)
        tty_text = b"".join(chunks).decode()
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    if quiet:
        assert "[" not in tty_text
    else:
        assert f"[ 1/{total}] hw/misc/" in tty_text and f"[{total}/{total}] hw/misc/" in tty_text
    # not a terminal (a pipe, as in CI): never any progress
    piped = _cli(*args, env=env).communicate(timeout=600)[1]
    assert "\r" not in piped and f"/{total}]" not in piped
