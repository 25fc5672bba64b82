"""The same input gives byte-identical text, JSON and SARIF: across runs,
across ``-j 1`` and ``-j N``, with a cold or a warm cache, wherever the
cache sits, and whatever Python's hash seed (set iteration order) is.

The tree is the examples plus files that produce notices (a function that
does not parse, one nested too deeply, a file that fails to preprocess), so
notices are compared too.  The cache is whatever lifecheck keeps under
``LIFECHECK_CACHE_DIR``: the preprocessor stubs today, and parsed units
once the persistent cache lands; a second run with the same folder is the
warm run.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from lifecheck.analysis import run
from lifecheck.frontend.tree import QemuTree
from lifecheck.limits import Limits
from lifecheck.report import json_format, sarif, text


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("det") / "tree"
    shutil.copytree(EXAMPLES, root)
    bad = root / "hw" / "misc"
    (bad / "zz-broken.c").write_text("int ok(void) { return 1; }\nint broken( {\n")
    (bad / "zz-deep.c").write_text("int deep(int a) { return " + "(" * 500 + "a" + ")" * 500 + "; }\n")
    (bad / "zz-missing.c").write_text('#include "no/such/dir/../../../../x.h"\n')
    return root


def render(report) -> dict:
    out = {}
    for name, module in (("text", text), ("json", json_format), ("sarif", sarif)):
        buf = io.StringIO()
        if module is text:
            module.report(report, buf, verbose=True)
        else:
            module.report(report, buf)
        out[name] = buf.getvalue().encode("utf-8")
    return out


def test_in_process_outputs_identical_across_jobs_and_cache_states(tree, catalog, tmp_path, monkeypatch):
    runs = []
    # (jobs, cache folder): cold A, warm A, cold B elsewhere, warm B
    for jobs, cache in ((1, "a"), (2, "a"), (2, "b/deeper"), (1, "b/deeper")):
        monkeypatch.setenv("LIFECHECK_CACHE_DIR", str(tmp_path / cache))
        report, internal = run(QemuTree.open(tree), [tree / "hw"], catalog, jobs=jobs,
                               limits=Limits(isolate=jobs > 1))
        assert not internal
        runs.append(render(report))
    first = runs[0]
    assert first["text"].count(b": note: could not analyse:") >= 3
    assert b"[subregion-not-deleted]" in first["text"]
    for other in runs[1:]:
        for fmt in first:
            assert other[fmt] == first[fmt], fmt


def _cli(tree: Path, *args, cache: Path, seed: str) -> bytes:
    env = dict(os.environ, LIFECHECK_CACHE_DIR=str(cache), PYTHONHASHSEED=seed)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "lifecheck", "check", "hw", *args], cwd=tree, env=env,
                          capture_output=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    return proc.stdout


def test_cli_output_identical_across_hash_seeds_jobs_and_caches(tree, tmp_path):
    # separate processes: set and dict orders that depend on string hashes
    # differ between these runs, so any unsorted output would show
    for fmt in ("sarif", "text"):
        extra = ("--format", fmt, "-v")
        a = _cli(tree, *extra, "-j", "1", cache=tmp_path / f"{fmt}-a", seed="1")
        b = _cli(tree, *extra, "-j", "2", cache=tmp_path / f"{fmt}-b", seed="2")
        c = _cli(tree, *extra, "-j", "2", cache=tmp_path / f"{fmt}-b", seed="3")  # warm
        assert a == b == c, fmt


def _spawn(tree: Path, cache: Path, *args) -> subprocess.Popen:
    env = dict(os.environ, LIFECHECK_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen([sys.executable, "-m", "lifecheck", "check", "hw", "--format", "json", "-v",
                             "-j", "1", *args], cwd=tree, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen) -> bytes:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err
    return out


def test_two_concurrent_runs_share_a_cache_and_a_damaged_cache_changes_nothing(tree, tmp_path):
    reference = _finish(_spawn(tree, tmp_path / "reference"))
    shared = tmp_path / "shared"
    first, second = _spawn(tree, shared), _spawn(tree, shared)
    assert _finish(first) == reference
    assert _finish(second) == reference
    # damage every file of the cache: truncate half of them, fill the others
    # with garbage; the next run must rebuild or ignore what it cannot trust
    damaged = 0
    for i, path in enumerate(sorted(p for p in shared.rglob("*") if p.is_file())):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if i % 2 else b"\x00garbage{{{;" * 7)
        damaged += 1
    assert damaged
    assert _finish(_spawn(tree, shared)) == reference


def test_a_cache_filled_with_other_rules_gives_the_same_findings(tree, tmp_path):
    cache = tmp_path / "cache"
    select = ("--select", "subregion-not-deleted", "--fail-on", "warning")
    _finish(_spawn(tree, cache))  # warm, with every rule
    cold = _finish(_spawn(tree, tmp_path / "cold", *select))
    assert _finish(_spawn(tree, cache, *select)) == cold
    assert b"subregion-not-deleted" in cold and b"freed-in-unrealize" not in cold
